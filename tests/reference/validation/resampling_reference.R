# Resampling off the happy path (GitHub issue #13): which resamples rms keeps, and the
# optimism-corrected indexes, on small, sparse and tied data.
#
# Run from the repository root (about 4 minutes):
#     Rscript tests/reference/validation/resampling_reference.R
# Writes, next to this script:
#   resampling_sparse_logistic.csv  198 patients; grade level G4 held by 2 (one event)
#   resampling_small_logistic.csv   80 patients, 21 events, 7 d.f. (near-separated resamples)
#   resampling_sparse_cox.csv       200 patients, times in whole months (heavy ties, 80 events
#                                   at 40 distinct times); grade G4 held by 2 (one event), so a
#                                   resample often has G4 without an event
#   resampling_exact.csv            validate/calibrate tables for given seeds (the test replays
#                                   the same resamples with R's random stream, tests/_r_random.py)
#   resampling_calibrate_exact.csv  calibrate tables for given seeds
#   resampling_mc.csv               index.corrected and resamples kept for 50 seeds x B = 200
#   resampling_r_draws.csv          a few draws of sample() to check the R stream emulation
#   resampling_session_info.txt
# Failures are counted from what rms prints: "Divergence or singularity in k samples" (all
# failed), "singular information matrix" (lrm.fit), "Singularity in coxph.fit" (validate.cph),
# "X matrix deemed to be singular" (cph, calibrate.cph).
suppressPackageStartupMessages({ library(rms); library(survival) })

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/validation"
out <- function(x, name) write.csv(x, file.path(here, name), row.names = FALSE)
options(digits = 15)

# ---------------------------------------------------------------- data
set.seed(20240613)
n <- 198
age <- round(rnorm(n, 60, 10))
rad <- round(rnorm(n), 3)
grade <- sample(c("G1", "G2", "G3"), n, replace = TRUE, prob = c(.48, .37, .15))
grade[c(17, 120)] <- "G4"
lp <- -0.9 + 0.04 * (age - 60) + 0.9 * rad + c(G1 = 0, G2 = 0.5, G3 = 1.0, G4 = 0)[grade]
y <- rbinom(n, 1, plogis(lp))
y[17] <- 1; y[120] <- 0
sparseL <- data.frame(age, rad_score = rad, grade, y)
out(sparseL, "resampling_sparse_logistic.csv")

set.seed(8081)
n <- 80
age <- round(rnorm(n, 58, 11))
rad <- round(rnorm(n), 3)
tsize <- round(rlnorm(n, log(25), 0.4))
grade <- sample(c("G1", "G2", "G3"), n, replace = TRUE, prob = c(.45, .35, .20))
lp <- -1.9 + 0.05 * (age - 58) + 2.0 * rad + 0.02 * (tsize - 25) + c(G1 = 0, G2 = 0.6, G3 = 1.3)[grade]
y <- rbinom(n, 1, plogis(lp))
smallL <- data.frame(age, rad_score = rad, tsize, grade, y)
out(smallL, "resampling_small_logistic.csv")

set.seed(777)
n <- 200
age <- round(rnorm(n, 62, 9))
rad <- round(rnorm(n), 3)
grade <- sample(c("G1", "G2", "G3"), n, replace = TRUE, prob = c(.45, .38, .17))
grade[c(57, 190)] <- "G4"
lp <- 0.035 * (age - 62) + 0.7 * rad + c(G1 = 0, G2 = 0.4, G3 = 0.9, G4 = 0)[grade]
t <- rexp(n, 0.012 * exp(lp))
cens <- runif(n, 6, 60)
months <- pmax(1, ceiling(pmin(t, cens)))
event <- as.integer(t <= cens)
event[57] <- 0L; event[190] <- 1L
sparseC <- data.frame(age, rad_score = rad, grade, months, event)
out(sparseC, "resampling_sparse_cox.csv")

# read back what the tests read (factors with alphabetical levels)
rd <- function(name) {
  d <- read.csv(file.path(here, name), stringsAsFactors = FALSE)
  d$grade <- factor(d$grade)
  d
}
sparseL <- rd("resampling_sparse_logistic.csv")
smallL <- rd("resampling_small_logistic.csv")
sparseC <- rd("resampling_sparse_cox.csv")

dd <- datadist(sparseL); options(datadist = "dd")
fLS <- lrm(y ~ rcs(age, 3) + rad_score + grade, data = sparseL, x = TRUE, y = TRUE)
dd <- datadist(smallL); options(datadist = "dd")
fL80 <- lrm(y ~ rcs(age, 4) + rad_score + rcs(tsize, 3) + grade, data = smallL, x = TRUE, y = TRUE)
dd <- datadist(sparseC); options(datadist = "dd")
fCS <- cph(Surv(months, event) ~ rcs(age, 3) + rad_score + grade, data = sparseC, x = TRUE, y = TRUE,
           surv = TRUE, time.inc = 24)
fits <- list(sparse_logistic = fLS, small_logistic = fL80, sparse_cox = fCS)

# ---------------------------------------------------------------- failure counts from rms's output
counts <- function(txt, B) {
  dv <- grep("Divergence or singularity in", txt, value = TRUE)
  failed <- if (length(dv)) as.integer(sub(".*singularity in *([0-9]+) samples.*", "\\1", dv[1])) else 0L
  singular <- sum(grepl("singular information matrix|Singularity in coxph.fit|deemed to be singular", txt))
  c(failed = failed, singular = singular)
}
run <- function(f, B) {
  res <- NULL
  txt <- capture.output(res <- f())
  list(value = res, counts = counts(txt, B))
}
long <- function(v, model, call, seed, cnt) {
  m <- unclass(v)
  data.frame(model = model, call = call, seed = seed, index = rownames(m),
             m[, c("index.orig", "training", "test", "optimism", "index.corrected", "n"), drop = FALSE],
             failed = cnt[["failed"]], singular = cnt[["singular"]], check.names = FALSE, row.names = NULL)
}

# ---------------------------------------------------------------- exact runs (replayed in Python)
B <- 200
exact <- list()
for (model in names(fits)) for (seed in 1:2) {
  set.seed(seed); r <- run(function() validate(fits[[model]], B = B), B)
  exact[[length(exact) + 1]] <- long(r$value, model, "boot", seed, r$counts)
}
set.seed(3); r <- run(function() validate(fLS, method = "crossvalidation", B = 10), 10)
exact[[length(exact) + 1]] <- long(r$value, "sparse_logistic", "crossvalidation", 3, r$counts)
set.seed(4); r <- run(function() validate(fL80, method = ".632", B = B), B)
exact[[length(exact) + 1]] <- long(r$value, "small_logistic", ".632", 4, r$counts)
set.seed(5); r <- run(function() validate(fCS, method = "crossvalidation", B = 10), 10)
exact[[length(exact) + 1]] <- long(r$value, "sparse_cox", "crossvalidation", 5, r$counts)
out(do.call(rbind, exact), "resampling_exact.csv")

cal <- list()
set.seed(1); r <- run(function() calibrate(fLS, B = B), B)
m <- unclass(r$value)
cal[[1]] <- data.frame(model = "sparse_logistic", seed = 1, group = seq_len(nrow(m)),
                       m[, c("predy", "calibrated.orig", "calibrated.corrected", "index.orig", "training",
                             "test", "optimism", "index.corrected", "n")],
                       failed = r$counts[["failed"]], singular = r$counts[["singular"]], check.names = FALSE)
set.seed(1); r <- run(function() calibrate(fCS, cmethod = "KM", u = 24, m = 50, B = B), B)
m <- unclass(r$value)
cal[[2]] <- data.frame(model = "sparse_cox", seed = 1, group = seq_len(nrow(m)),
                       m[, c("index.orig", "training", "test", "mean.optimism", "mean.corrected", "n",
                             "mean.predicted", "KM", "KM.corrected", "std.err")],
                       failed = r$counts[["failed"]], singular = r$counts[["singular"]], check.names = FALSE)
cols <- unique(unlist(lapply(cal, names)))
cal <- lapply(cal, function(d) { for (c in setdiff(cols, names(d))) d[[c]] <- NA; d[cols] })
out(do.call(rbind, cal), "resampling_calibrate_exact.csv")

# ---------------------------------------------------------------- Monte Carlo: 50 seeds x B = 200
mc <- list()
for (model in names(fits)) for (seed in 1001:1050) {
  set.seed(seed); r <- run(function() validate(fits[[model]], B = B), B)
  m <- unclass(r$value)
  row <- data.frame(model = model, seed = seed, kept = B - r$counts[["failed"]],
                    singular = r$counts[["singular"]], check.names = FALSE)
  for (ix in rownames(m)) row[[ix]] <- m[ix, "index.corrected"]
  mc[[length(mc) + 1]] <- row
}
cols <- unique(unlist(lapply(mc, names)))
mc <- lapply(mc, function(d) { for (c in setdiff(cols, names(d))) d[[c]] <- NA; d[cols] })
out(do.call(rbind, mc), "resampling_mc.csv")

# ---------------------------------------------------------------- the R stream, for tests/_r_random.py
draws <- list()
for (s in c(1, 42, 20240613)) {
  set.seed(s); a <- sample(198, 30, replace = TRUE)
  b <- sample(80); c <- sample(70000, 10, replace = TRUE)
  draws[[length(draws) + 1]] <- data.frame(seed = s, call = c(rep("sample(198, replace)", 30),
                                                             rep("sample(80)", 80), rep("sample(70000, replace)", 10)),
                                           value = c(a, b, c))
}
out(do.call(rbind, draws), "resampling_r_draws.csv")

writeLines(capture.output(sessionInfo()), file.path(here, "resampling_session_info.txt"))
