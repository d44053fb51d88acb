# validate and calibrate of stratified Cox models, rms cph(... + strat(g)) (GitHub issue #13).
#
# Run from the repository root (about a minute):
#     Rscript tests/reference/rms_strata_validate/rms_strata_validate.R
# Reads  tests/reference/data/gbsg2.csv, tests/reference/validation/resampling_sparse_cox.csv
# Writes, next to this script:
#   strata_sparse_cox.csv     resampling_sparse_cox.csv (200 patients, whole months: heavy ties)
#                             with a stratum column `site`: A, B (random) and C (8 patients, one
#                             event), so a bootstrap sample often has stratum C without an event,
#                             and C's follow-up sometimes ends before u = 24
#   validate_exact.csv        validate() tables for given seeds (the tests replay the same
#                             resamples with R's random stream, tests/_r_random.py)
#   calibrate_exact.csv       calibrate(cmethod = "KM") tables for given seeds
#   session_info.txt
# Models:
#   SV1  cph(Surv(time, cens) ~ rcs(age,4) + horTh + pnodes + strat(tgrade), data = gbsg2,
#            x=TRUE, y=TRUE, surv=TRUE, time.inc=1095)               validate(u = 1095)
#   SV2  cph(Surv(months, event) ~ rcs(age,3) + rad_score + strat(site), data = strata_sparse_cox,
#            x=TRUE, y=TRUE, surv=TRUE, time.inc=24)                  validate(u = 24)
# With strat() rms validate.cph needs u: Dxy is dxy.cens(survest(fit, linear.predictors =
# X beta, times = u)$surv, y, type = "time") (survival at u in each patient's stratum; NA, so
# left out, where u is past the stratum's last follow-up in the fit); the refits are
# cph(y ~ x + strat(strata), surv = TRUE) (failed only when singular), the test-sample slope
# coxphFit(x = X beta, y, strata). Failures are counted from what rms prints.
suppressPackageStartupMessages({ library(rms); library(survival) })

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/rms_strata_validate"
refdir <- dirname(here)
out <- function(x, name) write.csv(x, file.path(here, name), row.names = FALSE)
options(digits = 15)

# ---------------------------------------------------------------- data
gbsg2 <- read.csv(file.path(refdir, "data", "gbsg2.csv"), stringsAsFactors = FALSE)
for (v in c("horTh", "menostat", "tgrade")) gbsg2[[v]] <- factor(gbsg2[[v]])
stopifnot(nrow(gbsg2) == 686)

sc <- read.csv(file.path(refdir, "validation", "resampling_sparse_cox.csv"), stringsAsFactors = FALSE)
stopifnot(nrow(sc) == 200)
set.seed(4242)
site <- sample(c("A", "B"), nrow(sc), replace = TRUE)
small <- c(which(sc$event == 1)[3], which(sc$event == 0)[c(2, 5, 9, 14, 20, 26, 31)])
site[small] <- "C"
sc$site <- site
out(sc[, c("age", "rad_score", "site", "months", "event")], "strata_sparse_cox.csv")
sc <- read.csv(file.path(here, "strata_sparse_cox.csv"), stringsAsFactors = FALSE)
sc$site <- factor(sc$site)

dd <- datadist(gbsg2); options(datadist = "dd")
fSV1 <- cph(Surv(time, cens) ~ rcs(age, 4) + horTh + pnodes + strat(tgrade), data = gbsg2,
            x = TRUE, y = TRUE, surv = TRUE, time.inc = 1095)
dd <- datadist(sc); options(datadist = "dd")
fSV2 <- cph(Surv(months, event) ~ rcs(age, 3) + rad_score + strat(site), data = sc,
            x = TRUE, y = TRUE, surv = TRUE, time.inc = 24)
fits <- list(SV1 = fSV1, SV2 = fSV2)
horizon <- c(SV1 = 1095, SV2 = 24)
m_cal <- c(SV1 = 150, SV2 = 50)

# ---------------------------------------------------------------- failure counts from rms's output
counts <- function(txt) {
  dv <- grep("Divergence or singularity in", txt, value = TRUE)
  failed <- if (length(dv)) as.integer(sub(".*singularity in *([0-9]+) samples.*", "\\1", dv[1])) else 0L
  singular <- sum(grepl("Singularity in coxph.fit|deemed to be singular", txt))
  c(failed = failed, singular = singular)
}
run <- function(f) {
  res <- NULL
  txt <- capture.output(res <- f())
  list(value = res, counts = counts(txt))
}
long <- function(v, model, call, seed, B, cnt) {
  m <- unclass(v)
  data.frame(model = model, call = call, seed = seed, B = B, index = rownames(m),
             m[, c("index.orig", "training", "test", "optimism", "index.corrected", "n"), drop = FALSE],
             failed = cnt[["failed"]], singular = cnt[["singular"]], check.names = FALSE, row.names = NULL)
}

# ---------------------------------------------------------------- validate
runs <- list(list("SV1", "boot", 1, 200), list("SV1", "boot", 2, 200), list("SV1", "crossvalidation", 3, 10),
             list("SV1", ".632", 4, 200), list("SV2", "boot", 1, 200), list("SV2", "boot", 2, 200),
             list("SV2", "crossvalidation", 5, 10))
val <- list()
for (r in runs) {
  model <- r[[1]]; call <- r[[2]]; seed <- r[[3]]; B <- r[[4]]
  set.seed(seed)
  res <- run(function() validate(fits[[model]], method = call, B = B, u = horizon[[model]]))
  val[[length(val) + 1]] <- long(res$value, model, call, seed, B, res$counts)
}
out(do.call(rbind, val), "validate_exact.csv")

# ---------------------------------------------------------------- calibrate (KM)
cal <- list()
for (model in names(fits)) for (seed in 1:2) {
  set.seed(seed)
  res <- run(function() calibrate(fits[[model]], cmethod = "KM", u = horizon[[model]], m = m_cal[[model]],
                                  B = 200))
  m <- unclass(res$value)
  cal[[length(cal) + 1]] <- data.frame(
    model = model, seed = seed, B = 200, group = seq_len(nrow(m)),
    m[, c("index.orig", "training", "test", "mean.optimism", "mean.corrected", "n", "mean.predicted", "KM",
          "KM.corrected", "std.err")],
    failed = res$counts[["failed"]], singular = res$counts[["singular"]], check.names = FALSE, row.names = NULL)
}
out(do.call(rbind, cal), "calibrate_exact.csv")

writeLines(capture.output(sessionInfo()), file.path(here, "session_info.txt"))
