# Reference values for Harrell's and Uno's C at cohort size, with many ties.
#
# Run from the repository root:
#     Rscript tests/reference/survival_metrics/concordance_large.R
# Writes tests/reference/survival_metrics/concordance_large.json
#
# The data are integer formulas of the row number i = 1..n (no random numbers,
# nothing to pin: tests/metrics builds the same columns in numpy, see
# concordance_large_data() in tests/nomogram/metrics/test_survival_concordance.py):
#   time   = (i * 7919) %% 997 + 1             997 distinct times, ~n/997 rows each
#   status = ((i * 31) %% 7) < 4               4 of 7 residues are events
#   tied   = (1000 - time) %/% 20 + 3 * (i %% 11)                    ~80 distinct scores (many ties,
#            also among events at one time)
#   smooth = (1000 - time) + 3000 * ((i * 2654435761) %% 2^31) / 2^31   almost no ties
# (both higher for earlier times: C about 0.6-0.7)
# Every intermediate is an integer below 2^53, so R and numpy compute the same doubles.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
here <- "tests/reference/survival_metrics"
make <- function(n) {
  i <- as.numeric(seq_len(n))
  time <- (i * 7919) %% 997 + 1
  data.frame(time = time,
             status = as.integer(((i * 31) %% 7) < 4),
             tied = (1000 - time) %/% 20 + 3 * (i %% 11),
             smooth = (1000 - time) + 3000 * ((i * 2654435761) %% 2^31) / 2^31)
}
one <- function(d, x, tau = NULL) {
  S <- Surv(d$time, d$status)
  h <- concordance(S ~ x, reverse = TRUE)
  u <- concordance(S ~ x, reverse = TRUE, timewt = "n/G2", ymax = tau)
  list(harrell = list(concordance = h$concordance, std_err = sqrt(h$var), count = as.list(h$count)),
       uno = list(concordance = u$concordance, std_err = sqrt(u$var), tau = tau))
}
out <- list(survival_version = as.character(packageVersion("survival")), R_version = R.version.string)
for (n in c(5000, 50000)) {
  d <- make(n)
  out[[paste0("n", n)]] <- list(n = n, tied = one(d, d$tied, tau = 800), smooth = one(d, d$smooth, tau = 800))
}
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(here, "concordance_large.json"))
cat("wrote", file.path(here, "concordance_large.json"), "\n")
