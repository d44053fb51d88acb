# Reference values for nomogram.metrics (discrimination of survival outcomes).
#
# Run from the repository root:
#     Rscript tests/reference/survival_metrics/survival_reference.R
# Reads  tests/reference/data/gbsg2.csv (German Breast Cancer Study Group 2,
#        686 women, recurrence-free survival in days; as shipped by
#        lifelines.datasets.load_gbsg2)
# Writes tests/reference/survival_metrics/gbsg2_scores.csv (time, cens, scores)
#        tests/reference/survival_metrics/survival_reference.json
#
# Scores: linear predictors of two Cox models (coxph) and one raw variable with
# many ties (pnodes), plus 5-year risks 1 - S(1825 | x) for reclassification.
suppressPackageStartupMessages({
  library(survival)
  library(Hmisc)
  library(jsonlite)
})

here <- "tests/reference/survival_metrics"
g <- read.csv("tests/reference/data/gbsg2.csv", stringsAsFactors = TRUE)

cox1 <- coxph(Surv(time, cens) ~ tsize + pnodes, data = g)
cox2 <- coxph(Surv(time, cens) ~ age + menostat + tsize + tgrade + pnodes + progrec + estrec + horTh, data = g)
t5 <- 1825
risk_at <- function(fit) 1 - as.numeric(summary(survfit(fit, newdata = g), times = t5)$surv)
scores <- data.frame(
  time = g$time, cens = g$cens,
  lp1 = predict(cox1, type = "lp"), lp2 = predict(cox2, type = "lp"),
  pnodes = g$pnodes,
  risk1 = risk_at(cox1), risk2 = risk_at(cox2)
)
write.csv(scores, file.path(here, "gbsg2_scores.csv"), row.names = FALSE)
scores <- read.csv(file.path(here, "gbsg2_scores.csv"))
S <- with(scores, Surv(time, cens))

out <- list(
  survival_version = as.character(packageVersion("survival")),
  Hmisc_version = as.character(packageVersion("Hmisc")),
  R_version = R.version.string,
  scores_md5 = unname(tools::md5sum(file.path(here, "gbsg2_scores.csv")))
)

# Harrell's C: higher score = higher risk, hence reverse = TRUE.
harrell <- function(x) {
  cf <- concordance(S ~ x, reverse = TRUE)
  rc <- rcorr.cens(-x, S)
  list(concordance = cf$concordance, std_err = sqrt(cf$var),
       count = as.list(cf$count),
       rcorr_cens_C = as.numeric(rc["C Index"]), rcorr_cens_Dxy = as.numeric(rc["Dxy"]),
       rcorr_cens_SD = as.numeric(rc["S.D."]))
}
out$harrell <- list(lp1 = harrell(scores$lp1), lp2 = harrell(scores$lp2), pnodes = harrell(scores$pnodes))

# Two predictors at once: the infinitesimal-jackknife covariance of the two C's.
both <- concordance(cox1, cox2)  # multiple fits: joint IJ covariance
cc <- c(1, -1)
out$harrell_pair <- list(concordance = as.numeric(both$concordance), var = both$var,
                         diff = sum(cc * both$concordance),
                         diff_se = sqrt(as.numeric(t(cc) %*% both$var %*% cc)))

# Uno's C: timewt = "n/G2" (weights 1/G(t-)^2, censoring KM), truncated at tau = ymax.
uno <- function(x, tau) {
  cf <- concordance(S ~ x, reverse = TRUE, timewt = "n/G2", ymax = tau)
  list(concordance = cf$concordance, std_err = sqrt(cf$var), tau = tau)
}
out$uno <- list(lp1_1825 = uno(scores$lp1, 1825), lp2_1825 = uno(scores$lp2, 1825),
                lp2_1000 = uno(scores$lp2, 1000), pnodes_1825 = uno(scores$pnodes, 1825))

# KM-based NRI at t = 1825 days (Pencina, D'Agostino & Steyerberg 2011, eq. for
# censored data; Steyerberg & Pencina 2010): P(up | event) etc. by Bayes'
# rule with Kaplan-Meier estimates in the up / down groups.
km_nri <- function(up, down, t) {
  n <- nrow(scores)
  km <- function(idx) {
    if (sum(idx) == 0) return(1)
    f <- survfit(S[idx] ~ 1)
    summary(f, times = t, extend = TRUE)$surv
  }
  p_up <- mean(up); p_down <- mean(down)
  s_all <- km(rep(TRUE, n)); s_up <- km(up); s_down <- km(down)
  ev <- ((1 - s_up) * p_up - (1 - s_down) * p_down) / (1 - s_all)
  ne <- (s_down * p_down - s_up * p_up) / s_all
  list(nri = ev + ne, nri_events = ev, nri_nonevents = ne,
       p_up = p_up, p_down = p_down, s_all = s_all, s_up = s_up, s_down = s_down)
}
cuts <- c(0.3, 0.6)
cat1 <- findInterval(scores$risk1, cuts)
cat2 <- findInterval(scores$risk2, cuts)
out$km_nri <- list(
  t = t5, cuts = cuts,
  categorical = km_nri(cat2 > cat1, cat2 < cat1, t5),
  continuous = km_nri(scores$risk2 > scores$risk1, scores$risk2 < scores$risk1, t5)
)

write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      file.path(here, "survival_reference.json"))
cat("wrote", file.path(here, "survival_reference.json"), "\n")
