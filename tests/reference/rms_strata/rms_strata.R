# Reference values for stratified Cox models, rms cph with strat() (GitHub issue #13).
#
# Run from the repository root:
#     Rscript tests/reference/rms_strata/rms_strata.R
# Reads  tests/reference/data/gbsg2.csv (see tests/reference/README.md)
# Writes tests/reference/rms_strata/<MODEL>.json and session_info.txt
#
# Models (dd <- datadist(gbsg2); options(datadist = dd)), Efron ties, rms default eps:
#   CS1  cph(Surv(time, cens) ~ rcs(age,4) + horTh + pnodes + strat(tgrade), x=TRUE, y=TRUE, surv=TRUE)
#   CS2  cph(Surv(time, cens) ~ rcs(age,3) + tsize + strat(menostat) + strat(horTh), x=TRUE, y=TRUE, surv=TRUE)
#        (two stratification factors: strata "menostat=Post, horTh=no", ...)
# For each: coefficients, var, loglik, score test, center, the baseline survival
# of every stratum (survfit(fit) at the means: time, surv, strata), survest() of the
# first 20 patients at 365, 1095 and 1825 days (surv, std.err, lower, upper; each
# patient in its own stratum), and the nomogram with one survival axis per stratum
# and time: nomogram(fit, fun=list(S(1095) in each stratum), funlabel=...).
# Numbers: jsonlite digits = NA (15 significant digits).

suppressPackageStartupMessages({
  library(rms)
  library(survival)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/rms_strata"
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
write_json_file <- function(obj, name) {
  path <- file.path(here, paste0(name, ".json"))
  writeLines(toJSON(obj, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                    pretty = TRUE, matrix = "rowmajor"), path)
  cat("wrote", path, "\n")
}

first <- gbsg2[1:20, ]
times <- c(365, 1095, 1825)

describe <- function(name, call, f) {
  sf <- survfit(f)   # at the means, one curve per stratum
  strata_of <- rep(names(sf$strata), sf$strata)
  se <- survest(f, newdata = first, times = times, conf.type = "log")
  surv <- Survival(f)
  labels <- names(sf$strata)   # names rms gives the strata ("tgrade=I", "menostat=Post.horTh=no")
  funs <- list(); funlabel <- character()
  for (s in labels) for (t in c(1095, 1825)) {
    funs[[length(funs) + 1]] <- eval(bquote(function(x) surv(.(t), x, stratum = .(s))))
    funlabel <- c(funlabel, sprintf("S(%d) %s", t, s))
  }
  nom <- nomogram(f, fun = funs, funlabel = funlabel)
  info <- attr(nom, "info")
  axes <- list()
  for (k in seq_along(nom)) {
    el <- nom[[k]]; nm <- names(nom)[k]
    if (!is.null(el$fat)) axes[[length(axes) + 1]] <- list(axis = nm, x = unname(el$x), x_real = unname(el$x.real))
    else if (!is.null(el$points)) axes[[length(axes) + 1]] <- list(axis = nm, values = if (is.factor(el[[1]])) as.character(el[[1]]) else unname(el[[1]]), points = unname(el$points))
  }
  list(meta = list(model = name, call = call, versions = versions),
       strata = I(labels),
       coefficients = list(names = I(names(coef(f))), values = I(unname(coef(f)))),
       var = mat(vcov(f)),
       loglik = I(unname(f$loglik)),
       score = unname(f$score),
       center = unname(f$center),
       stats = as.list(f$stats),
       linear_predictors = I(unname(f$linear.predictors)),
       baseline = list(time = I(sf$time), surv = I(sf$surv), std_err = I(sf$std.err), strata = I(strata_of)),
       survest_first20 = list(times = I(times), surv = mat(se$surv), std_err = mat(se$std.err),
                              lower = mat(se$lower), upper = mat(se$upper), strata = I(as.character(se$strata))),
       nomogram = list(sc = info$sc, Intercept = unname(info$Intercept), lp_at = I(unname(info$lp.at)),
                       funlabel = I(funlabel), axes = axes))
}

f <- cph(Surv(time, cens) ~ rcs(age,4) + horTh + pnodes + strat(tgrade), data = gbsg2,
         x = TRUE, y = TRUE, surv = TRUE)
write_json_file(describe("CS1", "cph(Surv(time, cens) ~ rcs(age,4) + horTh + pnodes + strat(tgrade), x=TRUE, y=TRUE, surv=TRUE)", f), "CS1")

f <- cph(Surv(time, cens) ~ rcs(age,3) + tsize + strat(menostat) + strat(horTh), data = gbsg2,
         x = TRUE, y = TRUE, surv = TRUE)
write_json_file(describe("CS2", "cph(Surv(time, cens) ~ rcs(age,3) + tsize + strat(menostat) + strat(horTh), x=TRUE, y=TRUE, surv=TRUE)", f), "CS2")

writeLines(capture.output(sessionInfo()), file.path(here, "session_info.txt"))
