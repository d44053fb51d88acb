# Rubin's rules as rms fit.mult.impute pools them, on the completed datasets written by
# make_imputations.py (GitHub issue #13, multiple imputation).
#
# Run from the repository root:
#     Rscript tests/reference/imputation/imputation_reference.R
# Reads  tests/reference/imputation/gbsg2_imputed_{1..5}.csv and knots.json
# Writes tests/reference/imputation/pooled_reference.json and session_info.txt
#
# For each completed dataset k: lrm(cens ~ rcs(age, knots) + tsize + pnodes + horTh + tgrade)
# and cph(Surv(time, cens) ~ <same>) (Efron, rms default eps), with the knots learnt by
# nomofuse on the first completed dataset (knots.json), so every fit has the same basis.
# Pooling follows rms fit.mult.impute (rms 6.5-0) line by line:
#   vavg = mean of vcov; bar = mean of coef; cov = (sum coef coef' - m bar bar') / (m - 1)
#   var = vavg + (m + 1) / m * cov; r = diag(var) / diag(vavg)
#   tau = (1 + 1/m) * diag(cov) / diag(vavg); missingInfo = tau / (1 + tau);
#   dfmi = (m - 1) * (1 + 1/tau)^2
# Numbers: jsonlite digits = NA (15 significant digits).

suppressPackageStartupMessages({
  library(rms)
  library(survival)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/imputation"
knots <- fromJSON(file.path(here, "knots.json"))$age
m <- 5
sets <- lapply(1:m, function(k) {
  d <- read.csv(file.path(here, sprintf("gbsg2_imputed_%d.csv", k)), stringsAsFactors = FALSE)
  d$horTh <- factor(d$horTh); d$tgrade <- factor(d$tgrade)
  d
})

pool <- function(fits) {
  n.impute <- length(fits)
  for (i in seq_along(fits)) {
    cof <- coef(fits[[i]]); v <- vcov(fits[[i]], intercepts = "all")
    if (i == 1) { vavg <- 0 * v; bar <- rep(0, length(cof)); cov <- matrix(0, length(cof), length(cof)) }
    vavg <- vavg + v; bar <- bar + cof; cov <- cov + as.matrix(cof) %*% t(as.matrix(cof))
  }
  vavg <- vavg / n.impute; bar <- bar / n.impute
  cov <- (cov - n.impute * as.matrix(bar) %*% t(as.matrix(bar))) / (n.impute - 1)
  U <- diag(vavg); B <- diag(cov)
  total <- vavg + (n.impute + 1) / n.impute * cov
  tau <- (1 + 1 / n.impute) * B / U
  list(names = I(names(bar)), coef = I(unname(bar)),
       within = list(values = unname(vavg)), between = list(values = unname(cov)),
       var = list(values = unname(total)),
       variance_inflation = I(unname(diag(total) / U)),
       missing_information = I(unname(tau / (1 + tau))),
       dfmi = I(unname((n.impute - 1) * ((1 + 1 / tau)^2))),
       per_imputation_coef = lapply(fits, function(f) I(unname(coef(f)))))
}

lrms <- lapply(sets, function(d) lrm(cens ~ rcs(age, knots) + tsize + pnodes + horTh + tgrade, data = d))
cphs <- lapply(sets, function(d) cph(Surv(time, cens) ~ rcs(age, knots) + tsize + pnodes + horTh + tgrade, data = d))
out <- list(meta = list(m = m, knots = I(knots),
                        versions = list(R = R.version.string, rms = as.character(packageVersion("rms")))),
            lrm = pool(lrms), cph = pool(cphs))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = TRUE,
                  matrix = "rowmajor"), file.path(here, "pooled_reference.json"))
writeLines(capture.output(sessionInfo()), file.path(here, "session_info.txt"))
cat("wrote", file.path(here, "pooled_reference.json"), "\n")
