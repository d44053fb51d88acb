# Reference values for models with more than one interaction (GitHub issue #13,
# "More than one interaction in a model").
#
# Run from the repository root:
#     Rscript tests/reference/rms_interactions/rms_interactions.R
# Reads  tests/reference/data/gbsg2.csv (see tests/reference/README.md)
# Writes tests/reference/rms_interactions/<MODEL>.json and session_info.txt
#
# Models (dd <- datadist(gbsg2); options(datadist = dd)):
#   LI1  lrm(cens ~ rcs(age,4)*horTh + rcs(age,4)*tsize + tgrade + pnodes)
#        two interactions sharing age (spline x factor, spline x continuous);
#        nomogram(fit, interact=list(tsize=c(20,35,60)), fun=plogis, funlabel="Risk")
#   LI2  lrm(cens ~ rcs(age,3)*horTh + tgrade*menostat + pnodes)
#        two separate interactions (spline x factor, factor x factor)
#        nomogram(fit, fun=plogis, funlabel="Risk")
#   CI1  cph(Surv(time,cens) ~ rcs(age,4)*horTh + tsize*pnodes + tgrade, surv=TRUE)
#        (Efron) spline x factor and linear x linear;
#        nomogram(fit, interact=list(pnodes=c(1,5,10)), fun=<S(1095), S(1825)>)
# For each: coefficients, var, anova(fit) (and main.effect=TRUE, india=FALSE),
# every nomogram axis (values, Xbeta, points), R/sc/Intercept, and the points of
# the first 20 patients computed as nomogram() computes axes (predictrms terms
# summed over attr(axis, "info")$effect.name; see ../rms_models.R header).
# Numbers: jsonlite digits = NA (15 significant digits).

suppressPackageStartupMessages({
  library(rms)
  library(survival)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/rms_interactions"
datadir <- file.path(dirname(here), "data")

gbsg2 <- read.csv(file.path(datadir, "gbsg2.csv"), stringsAsFactors = FALSE)
gbsg2$horTh <- factor(gbsg2$horTh)
gbsg2$menostat <- factor(gbsg2$menostat)
gbsg2$tgrade <- factor(gbsg2$tgrade)
stopifnot(nrow(gbsg2) == 686)
dd <- datadist(gbsg2); options(datadist = dd)

versions <- list(R = R.version.string, rms = as.character(packageVersion("rms")),
                 survival = as.character(packageVersion("survival")),
                 jsonlite = as.character(packageVersion("jsonlite")))

mat <- function(m) {
  m <- as.matrix(m)
  list(rownames = rownames(m), colnames = colnames(m), values = unname(m))
}

anova_info <- function(a) {
  m <- unclass(a)
  list(rownames = I(rownames(m)), chisq = I(unname(m[, "Chi-Square"])),
       df = I(unname(m[, "d.f."])),
       P_upper = I(pchisq(unname(m[, "Chi-Square"]), unname(m[, "d.f."]), lower.tail = FALSE)))
}

nomogram_info <- function(nom) {
  info <- attr(nom, "info")
  axes <- list()
  for (k in seq_along(nom)) {
    el <- nom[[k]]; nm <- names(nom)[k]; ai <- attr(el, "info")
    if (nm == "total.points") {
      axes[[length(axes) + 1]] <- list(axis = nm, kind = "total.points", x = unname(el$x))
    } else if (nm == "lp") {
      axes[[length(axes) + 1]] <- list(axis = nm, kind = "lp", x = unname(el$x), x_real = unname(el$x.real))
    } else if (!is.null(el$fat)) {
      axes[[length(axes) + 1]] <- list(axis = nm, kind = "fun", x = unname(el$x),
                                       x_real = unname(el$x.real))
    } else {
      v <- el[[1]]
      held <- list()
      for (o in setdiff(names(el), c(names(el)[1], "Xbeta", "points"))) {
        held[[o]] <- if (is.factor(el[[o]])) as.character(el[[o]]) else el[[o]]
      }
      axes[[length(axes) + 1]] <- list(
        axis = nm, kind = "predictor", predictor = names(el)[1],
        effect_name = I(ai$effect.name),
        values = if (is.factor(v)) as.character(v) else unname(v),
        held_at = if (length(held)) held else NULL,
        Xbeta = unname(el$Xbeta), points = unname(el$points))
    }
  }
  R <- info$R
  list(axes = axes,
       info = list(sc = info$sc, Intercept = unname(info$Intercept), lp_at = unname(info$lp.at),
                   R = list(predictors = I(colnames(R)), min = I(unname(R[1, ])), max = I(unname(R[2, ])))))
}

points_per_patient <- function(fit, nom, newdata) {
  info <- attr(nom, "info"); R <- info$R; sc <- info$sc
  terms <- predictrms(fit, newdata = newdata, type = "terms", center.terms = FALSE, se.fit = FALSE)
  pts <- matrix(NA_real_, nrow(newdata), ncol(R), dimnames = list(NULL, colnames(R)))
  effect <- list()
  for (k in seq_along(nom)) {
    ai <- attr(nom[[k]], "info")
    if (is.null(ai)) next
    if (is.null(effect[[ai$predictor]])) effect[[ai$predictor]] <- ai$effect.name
  }
  for (p in colnames(R)) pts[, p] <- (rowSums(terms[, effect[[p]], drop = FALSE]) - R[1, p]) * sc
  total <- rowSums(pts)
  lp <- info$Intercept + total / sc
  lp_pred <- predict(fit, newdata = newdata)
  stopifnot(max(abs(lp - lp_pred)) < 1e-9)
  list(points = mat(pts), total_points = unname(total), lp = unname(lp))
}

write_json_file <- function(obj, name) {
  path <- file.path(here, paste0(name, ".json"))
  writeLines(toJSON(obj, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                    pretty = TRUE, matrix = "rowmajor"), path)
  cat("wrote", path, "\n")
}

first <- gbsg2[1:20, ]

describe <- function(name, fit, call, nom, nomcall) {
  list(meta = list(model = name, call = call, nomogram_call = nomcall, versions = versions),
       colnames = I(fit$Design$colnames),
       coefficients = list(names = I(names(coef(fit))), values = I(unname(coef(fit)))),
       var = mat(vcov(fit, intercepts = "all")),
       loglik = I(unname(if (length(fit$loglik)) fit$loglik else -fit$deviance / 2)),
       anova = anova_info(anova(fit)),
       anova_main_effect = anova_info(anova(fit, main.effect = TRUE)),
       anova_no_india = anova_info(anova(fit, india = FALSE)),
       nomogram = nomogram_info(nom),
       points_first20 = points_per_patient(fit, nom, first))
}

# ---------------------------------------------------------------- LI1
f <- lrm(cens ~ rcs(age,4)*horTh + rcs(age,4)*tsize + tgrade + pnodes, data = gbsg2, x = TRUE, y = TRUE)
nom <- nomogram(f, interact = list(tsize = c(20, 35, 60)), fun = plogis, funlabel = "Risk")
write_json_file(describe("LI1", f, "lrm(cens ~ rcs(age,4)*horTh + rcs(age,4)*tsize + tgrade + pnodes)", nom,
                         'nomogram(fit, interact=list(tsize=c(20,35,60)), fun=plogis, funlabel="Risk")'), "LI1")

# ---------------------------------------------------------------- LI2
f <- lrm(cens ~ rcs(age,3)*horTh + tgrade*menostat + pnodes, data = gbsg2, x = TRUE, y = TRUE)
nom <- nomogram(f, fun = plogis, funlabel = "Risk")
write_json_file(describe("LI2", f, "lrm(cens ~ rcs(age,3)*horTh + tgrade*menostat + pnodes)", nom,
                         'nomogram(fit, fun=plogis, funlabel="Risk")'), "LI2")

# ---------------------------------------------------------------- CI1
f <- cph(Surv(time, cens) ~ rcs(age,4)*horTh + tsize*pnodes + tgrade, data = gbsg2,
         x = TRUE, y = TRUE, surv = TRUE)
surv <- Survival(f)
nom <- nomogram(f, interact = list(pnodes = c(1, 5, 10)),
                fun = list(function(x) surv(1095, x), function(x) surv(1825, x)),
                funlabel = c("S(1095)", "S(1825)"))
out <- describe("CI1", f, "cph(Surv(time,cens) ~ rcs(age,4)*horTh + tsize*pnodes + tgrade, surv=TRUE)", nom,
                'nomogram(fit, interact=list(pnodes=c(1,5,10)), fun=list(S(1095), S(1825)))')
out$center <- unname(f$center)
out$survest_first20 <- list(times = c(1095, 1825),
                            surv = unname(survest(f, newdata = first, times = c(1095, 1825))$surv))
write_json_file(out, "CI1")

writeLines(capture.output(sessionInfo()), file.path(here, "session_info.txt"))
