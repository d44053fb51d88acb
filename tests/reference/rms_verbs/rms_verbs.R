# Reference values for nomofuse's anova / effects / partial_effects verbs and the
# extra lrm/cph statistics (GitHub issue #13, "What a biostatistician prints beside
# the nomogram").
#
# Run from the repository root:
#     Rscript tests/reference/rms_verbs/rms_verbs.R
# Reads  tests/reference/data/{gbsg2,rossi}.csv (see tests/reference/README.md)
# Writes tests/reference/rms_verbs/<MODEL>.json and session_info.txt
#
# For each model (L1-L3, L4_pen2, C1, C2 as in ../rms_models.R, plus L5 and C3 with
# a linear x factor and a spline x factor interaction):
#   anova      anova(fit) (rms anova.rms, Wald chi-square), and for the interaction
#              models also main.effect=TRUE, india=FALSE, indnl=FALSE
#   effects    summary(fit) (rms summary.rms) with default and user ranges /
#              adjust-to values / confidence level
#   predict    Predict(fit, <each predictor>) (rms Predict), on the linear
#              predictor, with fun=plogis (lrm) or time= (cph, survival), ref.zero,
#              conf.int = 0.9, and two predictors varied jointly
#   stats      fit$stats (rms 6.5 already prints Gamma, Tau-a and the R2(...)
#              measures), plus the same measures recomputed from rms 8.2's code
#              (lrm.fit.r::lrmstats, cph.s, Hmisc 5.3 R2Measures) by
#              rms8_stats() below, to show which agree
#
# Numbers: jsonlite digits = NA (15 significant digits); NA/NaN -> null.

suppressPackageStartupMessages({
  library(rms)
  library(survival)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/rms_verbs"
datadir <- file.path(dirname(here), "data")
outdir <- here

gbsg2 <- read.csv(file.path(datadir, "gbsg2.csv"), stringsAsFactors = FALSE)
gbsg2$horTh <- factor(gbsg2$horTh)
gbsg2$menostat <- factor(gbsg2$menostat)
gbsg2$tgrade <- factor(gbsg2$tgrade)
stopifnot(nrow(gbsg2) == 686, identical(levels(gbsg2$tgrade), c("I", "II", "III")))
rossi <- read.csv(file.path(datadir, "rossi.csv"), stringsAsFactors = FALSE)
stopifnot(nrow(rossi) == 432)

versions <- list(
  R = R.version.string,
  rms = as.character(packageVersion("rms")),
  Hmisc = as.character(packageVersion("Hmisc")),
  survival = as.character(packageVersion("survival")),
  jsonlite = as.character(packageVersion("jsonlite")),
  platform = R.version$platform
)

named_list <- function(x) {
  nm <- names(x)
  out <- lapply(seq_along(x), function(i) unname(x[[i]]))
  names(out) <- nm
  out
}

# ---------------------------------------------------------------- anova
anova_info <- function(a) {
  m <- unclass(a)
  coefnames <- attr(a, "coef.names")
  list(
    rownames = I(rownames(m)),
    chisq = I(unname(m[, "Chi-Square"])),
    df = I(unname(m[, "d.f."])),
    P = I(unname(m[, "P"])),
    # rms computes P as 1 - pchisq(); the exact upper tail for comparison
    P_upper = I(pchisq(unname(m[, "Chi-Square"]), unname(m[, "d.f."]),
                       lower.tail = FALSE)),
    which = lapply(attr(a, "which"), function(w) I(coefnames[w]))
  )
}

# ---------------------------------------------------------------- summary.rms
effects_info <- function(s, call) {
  m <- unclass(s)
  list(
    call = call,
    rownames = I(rownames(m)),
    colnames = I(colnames(m)),
    values = unname(m[, seq_len(ncol(m)), drop = FALSE]),
    adjust = attr(s, "adjust"),
    scale = I(attr(s, "scale"))
  )
}

# ---------------------------------------------------------------- Predict
predict_info <- function(p, call) {
  info <- attr(p, "info")
  d <- as.data.frame(p)
  cols <- setdiff(names(d), c("yhat", "lower", "upper", ".predictor."))
  settings <- lapply(cols, function(v) {
    x <- d[[v]]
    I(if (is.factor(x)) as.character(x) else unname(x))
  })
  names(settings) <- cols
  list(
    call = call,
    predictor = if (".predictor." %in% names(d)) I(as.character(d$.predictor.)) else NULL,
    varying = I(info$varying),
    settings = settings,
    yhat = I(unname(d$yhat)),
    lower = I(unname(d$lower)),
    upper = I(unname(d$upper))
  )
}

# ---------------------------------------------------------------- rms 8.2 statistics
# R2Measures as in Hmisc 5.3-0 (harrelfe/Hmisc d4700aa, R/R2Measures.r), identical
# to the Hmisc 4.8-0 function installed here.
R2Measures8 <- function(lr, p, n, ess = NULL) {
  r2 <- 1 - exp(-lr / n)
  r2adj <- 1 - exp(-max(lr - p, 0) / n)
  out <- c(r2, r2adj)
  nm <- c("R2(n)", "R2(p,n)")
  if (length(ess)) {
    m <- if (length(ess) == 1) ess else { P <- ess / sum(ess); n * (1 - sum(P^3)) }
    out <- c(out, 1 - exp(-lr / m), 1 - exp(-max(lr - p, 0) / m))
    nm <- c(nm, "R2(m)", "R2(p,m)")
    out <- c(out, m)
    nm <- c(nm, "m")
  }
  names(out) <- nm
  out
}
# rms 8.2-0 lrm.fit.r::lrmstats (harrelfe/rms 2061671): rank statistics from
# survival::concordancefit on the linear predictor (no binning, unlike rms 6.5's
# Fortran, which ranks probabilities binned to width 1/5000).
rms8_lrm_stats <- function(fit) {
  lp <- fit$linear.predictors
  y <- fit$y
  a <- suppressWarnings(survival::concordancefit(y, lp, reverse = FALSE))
  conc <- a$count["concordant"]; disc <- a$count["discordant"]
  tiedx <- a$count["tied.x"]; pairs <- sum(as.double(a$count))
  p <- length(coef(fit)) - 1
  c(C = unname(a$concordance),
    Dxy = unname((conc - disc) / (conc + disc + tiedx)),
    Gamma = unname((conc - disc) / (conc + disc)),
    `Tau-a` = unname((conc - disc) / pairs),
    R2Measures8(unname(fit$deviance[1] - fit$deviance[2]), p, length(y), table(y)))
}
# rms 8.2-0 cph.s: R2Measures(logtest, nvar, n, nevent)
rms8_cph_stats <- function(fit) {
  logtest <- -2 * (fit$loglik[1] - fit$loglik[2])
  R2Measures8(logtest, length(coef(fit)), nrow(fit$y), sum(fit$y[, 2]))
}

# ---------------------------------------------------------------- driver
do_model <- function(name, formula, data, fitter, extra = function(fit, out) out,
                     predict_funs = list(), ...) {
  dd <- datadist(data); options(datadist = dd)
  assign("dd", dd, envir = .GlobalEnv)
  fit <- fitter(formula, data = data, x = TRUE, y = TRUE, ...)
  ftxt <- paste(deparse(formula), collapse = " ")
  out <- list(meta = list(model = name, call = paste0(deparse(fit$call), collapse = ""),
                          formula = ftxt, n = nrow(data), versions = versions))
  out$coefficients <- list(names = I(names(coef(fit))), values = I(unname(coef(fit))))
  out$datadist <- lapply(dd$limits, function(x) I(if (is.factor(x)) as.character(x) else unname(x)))
  out$datadist_rows <- I(rownames(dd$limits))
  out$anova <- anova_info(anova(fit))
  out$effects <- list(default = effects_info(summary(fit), "summary(fit)"),
                      conf90 = effects_info(summary(fit, conf.int = 0.9),
                                            "summary(fit, conf.int=0.9)"))
  preds <- list(lp = predict_info(Predict(fit), "Predict(fit)"))
  out$predict <- preds
  out$stats <- named_list(fit$stats)
  out <- extra(fit, out)
  txt <- toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                pretty = FALSE, matrix = "rowmajor")
  writeLines(txt, file.path(outdir, paste0(name, ".json")))
  cat("wrote", name, "\n")
  invisible(fit)
}

lrm_extra <- function(fit, out) {
  out$predict$risk <- predict_info(Predict(fit, fun = plogis), "Predict(fit, fun=plogis)")
  out$stats_rms8 <- as.list(rms8_lrm_stats(fit))
  out
}

# L1: two splines, factors (as rms_models.R)
do_model("L1", cens ~ rcs(age, 4) + rcs(tsize, 3) + pnodes + tgrade + horTh + menostat,
         gbsg2, lrm, extra = function(fit, out) {
  out <- lrm_extra(fit, out)
  out$effects$ranges <- effects_info(summary(fit, age = c(40, 60), tsize = c(20, 40), tgrade = "I"),
                                     "summary(fit, age=c(40,60), tsize=c(20,40), tgrade=\"I\")")
  out$effects$three <- effects_info(summary(fit, age = c(40, 50, 60)),
                                    "summary(fit, age=c(40,50,60))")
  out$predict$ref_zero <- predict_info(Predict(fit, age, ref.zero = TRUE),
                                       "Predict(fit, age, ref.zero=TRUE)")
  out$predict$conf90 <- predict_info(Predict(fit, tsize, conf.int = 0.9),
                                     "Predict(fit, tsize, conf.int=0.9)")
  out$predict$values <- predict_info(Predict(fit, age = c(35, 50, 65), tgrade = "III"),
                                     "Predict(fit, age=c(35,50,65), tgrade=\"III\")")
  out$predict$np <- predict_info(Predict(fit, tsize, np = 7), "Predict(fit, tsize, np=7)")
  out
})
# L2: rossi, numeric 0/1 predictors (discrete values in Predict, range effects)
do_model("L2", arrest ~ rcs(age, 3) + fin + race + wexp + mar + paro + prio,
         rossi, lrm, extra = lrm_extra)
# L3: spline x factor interaction
do_model("L3", cens ~ rcs(age, 4) * horTh + tgrade + pnodes, gbsg2, lrm,
         extra = function(fit, out) {
  out <- lrm_extra(fit, out)
  out$anova_main_effect <- anova_info(anova(fit, main.effect = TRUE))
  out$anova_no_india <- anova_info(anova(fit, india = FALSE))
  out$anova_no_indnl <- anova_info(anova(fit, indnl = FALSE))
  out$anova_neither <- anova_info(anova(fit, india = FALSE, indnl = FALSE))
  out$effects$horTh_yes <- effects_info(summary(fit, horTh = "yes"), "summary(fit, horTh=\"yes\")")
  out$predict$by <- predict_info(Predict(fit, age, horTh), "Predict(fit, age, horTh)")
  out$predict$by_risk <- predict_info(Predict(fit, age, horTh, fun = plogis),
                                      "Predict(fit, age, horTh, fun=plogis)")
  out
})
# L4_pen2: penalized fit (anova and effects use the penalized variance)
do_model("L4_pen2", cens ~ rcs(age, 4) + tgrade + pnodes + horTh, gbsg2, lrm,
         extra = lrm_extra, penalty = 2)
# L5: linear x 3-level factor interaction
do_model("L5", cens ~ rcs(age, 4) + pnodes * tgrade + horTh, gbsg2, lrm,
         extra = function(fit, out) {
  out <- lrm_extra(fit, out)
  out$anova_no_india <- anova_info(anova(fit, india = FALSE))
  out$effects$tgrade_III <- effects_info(summary(fit, tgrade = "III", pnodes = c(2, 10)),
                                         "summary(fit, tgrade=\"III\", pnodes=c(2,10))")
  out
})

cph_extra <- function(time) function(fit, out) {
  out$predict$survival <- predict_info(Predict(fit, time = time),
                                       sprintf("Predict(fit, time=%s)", time))
  out$predict$hazard_ratio <- predict_info(Predict(fit, fun = exp), "Predict(fit, fun=exp)")
  out$predict$ref_zero <- predict_info(Predict(fit, age, ref.zero = TRUE),
                                       "Predict(fit, age, ref.zero=TRUE)")
  out$horizon <- time
  out$stats_rms8 <- as.list(rms8_cph_stats(fit))
  out
}
do_model("C1", Surv(time, cens) ~ rcs(age, 4) + tgrade + rcs(pnodes, 3) + horTh + tsize,
         gbsg2, cph, extra = function(fit, out) {
  out <- cph_extra(1095)(fit, out)
  out$effects$ranges <- effects_info(summary(fit, pnodes = c(1, 10), tgrade = "III"),
                                     "summary(fit, pnodes=c(1,10), tgrade=\"III\")")
  out
}, surv = TRUE)
do_model("C2", Surv(week, arrest) ~ rcs(age, 3) + fin + prio + wexp + mar,
         rossi, cph, extra = cph_extra(52), surv = TRUE)
# C3: spline x factor interaction in a Cox model
do_model("C3", Surv(time, cens) ~ rcs(age, 4) * horTh + tgrade + pnodes, gbsg2, cph,
         extra = function(fit, out) {
  out <- cph_extra(1825)(fit, out)
  out$anova_no_india <- anova_info(anova(fit, india = FALSE))
  out$effects$horTh_yes <- effects_info(summary(fit, horTh = "yes"), "summary(fit, horTh=\"yes\")")
  out$predict$by <- predict_info(Predict(fit, age, horTh), "Predict(fit, age, horTh)")
  out$predict$by_survival <- predict_info(Predict(fit, age, horTh, time = 1825),
                                          "Predict(fit, age, horTh, time=1825)")
  out
}, surv = TRUE)

writeLines(capture.output(sessionInfo()), file.path(outdir, "session_info.txt"))
cat("done\n")
