# Reference values for nomogram.decision_curve, nomogram.risk_groups and nomogram.tables.
#
# Run from the repository root:  Rscript tests/reference/clinical/clinical_reference.R
# Needs: survival, maxstat (apt: r-cran-survival r-cran-maxstat), jsonlite.
# Inputs: tests/reference/data/gbsg2.csv, rossi.csv (lifelines' load_gbsg2 / load_rossi).
# Outputs (this folder): *.csv and clinical_reference.json.
#
# dcurves is not installed (not in Debian), so the decision-curve numbers below are
# computed from the dcurves definitions written out in base R + survival::survfit:
#   binary:   tp_rate = mean(risk[y == 1] >= pt) * prev,  fp_rate = mean(risk[y == 0] >= pt) * (1 - prev)
#   survival: test_pos = mean(risk >= pt);  r = 1 - KM(t | risk >= pt) (0 if nobody, NA if
#             no follow-up reaches t);  tp_rate = r * test_pos;  fp_rate = (1 - r) * test_pos
#   net_benefit = tp_rate - pt / (1 - pt) * fp_rate
suppressPackageStartupMessages({
  library(survival)
  library(maxstat)
  library(jsonlite)
})
out_dir <- "tests/reference/clinical"
g <- read.csv("tests/reference/data/gbsg2.csv", stringsAsFactors = FALSE)
r <- read.csv("tests/reference/data/rossi.csv")
res <- list()
fmt <- function(df) { for (v in names(df)) if (is.numeric(df[[v]])) df[[v]] <- sprintf("%.17g", df[[v]]); df }
wcsv <- function(df, name) write.csv(fmt(df), file.path(out_dir, name), row.names = FALSE, quote = FALSE)

# ---------------------------------------------------------------- Kaplan-Meier
km_tab <- function(fit, strata_name) {
  s <- summary(fit, censored = TRUE)
  data.frame(group = if (is.null(s$strata)) "all" else sub(".*=", "", as.character(s$strata)),
             time = s$time, n_risk = s$n.risk, n_event = s$n.event, surv = s$surv,
             std_err = s$std.err, lower = s$lower, upper = s$upper)
}
fit_h <- survfit(Surv(time, cens) ~ horTh, data = g)            # conf.type = "log" default
wcsv(km_tab(fit_h), "km_gbsg2_horTh.csv")
fit_r <- survfit(Surv(week, arrest) ~ 1, data = r)
wcsv(km_tab(fit_r), "km_rossi_all.csv")
fit_ll <- survfit(Surv(time, cens) ~ 1, data = g, conf.type = "log-log")
wcsv(km_tab(fit_ll), "km_gbsg2_loglog.csv")
lm_times <- c(365.25, 730.5, 1095.75)
s <- summary(fit_h, times = lm_times)
wcsv(data.frame(group = sub(".*=", "", as.character(s$strata)), time = s$time, n_risk = s$n.risk,
                surv = s$surv, std_err = s$std.err, lower = s$lower, upper = s$upper),
     "km_gbsg2_horTh_landmarks.csv")

# median survival and its CI (quantile.survfit), incl. a curve flat at exactly 0.5
med <- function(fit) { q <- quantile(fit, 0.5); list(median = unname(q$quantile), lower = unname(q$lower),
                                                      upper = unname(q$upper)) }
res$median_tgrade <- lapply(c("I", "II", "III"), function(l)
  med(survfit(Surv(time, cens) ~ 1, data = g[g$tgrade == l, ])))
res$median_toy_flat <- med(survfit(Surv(c(1, 2, 3, 4), c(1, 1, 0, 0)) ~ 1))
res$median_toy_ends_half <- med(survfit(Surv(c(1, 2, 3, 4), c(1, 1, 1, 0)) ~ 1))
res$median_toy_ends_half2 <- med(survfit(Surv(c(1, 2, 5, 6), c(0, 1, 0, 0)) ~ 1))

# ---------------------------------------------------------------- log-rank
sd_h <- survdiff(Surv(time, cens) ~ horTh, data = g)
sd_t <- survdiff(Surv(time, cens) ~ tgrade, data = g)
res$logrank_horTh <- list(chisq = sd_h$chisq, p = pchisq(sd_h$chisq, 1, lower.tail = FALSE),
                          observed = as.numeric(sd_h$obs), expected = as.numeric(sd_h$exp))
res$logrank_tgrade <- list(chisq = sd_t$chisq, p = pchisq(sd_t$chisq, 2, lower.tail = FALSE),
                           observed = as.numeric(sd_t$obs), expected = as.numeric(sd_t$exp),
                           var = as.numeric(sd_t$var))

# ---------------------------------------------------------------- risk groups on a prognostic score
cfit <- coxph(Surv(time, cens) ~ age + tsize + pnodes + progrec + estrec, data = g)
g$score <- as.numeric(cfit$linear.predictors)
wcsv(data.frame(score = g$score), "gbsg2_score.csv")

median_cut <- median(g$score)
g$high_med <- as.integer(g$score > median_cut)
sd_m <- survdiff(Surv(time, cens) ~ high_med, data = g)
cx_m <- coxph(Surv(time, cens) ~ high_med, data = g, ties = "efron")
sm <- summary(cx_m)
res$median_groups <- list(
  cutoff = median_cut, n_high = sum(g$high_med),
  chisq = sd_m$chisq, p = pchisq(sd_m$chisq, 1, lower.tail = FALSE),
  hr = unname(sm$conf.int[1, 1]), hr_lower = unname(sm$conf.int[1, 3]),
  hr_upper = unname(sm$conf.int[1, 4]), hr_p = unname(sm$coefficients[1, 5]),
  coef = unname(coef(cx_m)), se = unname(sqrt(vcov(cx_m)[1, 1])))
res$median_groups_km <- lapply(0:1, function(k) med(survfit(Surv(time, cens) ~ 1, data = g[g$high_med == k, ])))
s <- summary(survfit(Surv(time, cens) ~ high_med, data = g), times = lm_times)
wcsv(data.frame(group = sub(".*=", "", as.character(s$strata)), time = s$time, n_risk = s$n.risk,
                surv = s$surv, std_err = s$std.err, lower = s$lower, upper = s$upper),
     "landmarks_median_groups.csv")
# numbers at risk at 0, 500, ..., 2500 days
nr_times <- seq(0, 2500, by = 500)
s <- summary(survfit(Surv(time, cens) ~ high_med, data = g), times = nr_times, extend = TRUE)
wcsv(data.frame(group = sub(".*=", "", as.character(s$strata)), time = s$time, n_risk = s$n.risk),
     "n_risk_median_groups.csv")

# maximally selected log-rank statistic, Lausen & Schumacher (1992) p-value
ms <- maxstat.test(Surv(time, cens) ~ score, data = g, smethod = "LogRank", pmethod = "Lau92",
                   minprop = 0.1, maxprop = 0.9)
res$maxstat_score <- list(statistic = unname(ms$statistic), p = unname(ms$p.value),
                          estimate = unname(ms$estimate))
ms2 <- maxstat.test(Surv(time, cens) ~ pnodes, data = g, smethod = "LogRank", pmethod = "Lau92",
                    minprop = 0.2, maxprop = 0.8)
res$maxstat_pnodes <- list(statistic = unname(ms2$statistic), p = unname(ms2$p.value),
                           estimate = unname(ms2$estimate))
ms3 <- maxstat.test(Surv(week, arrest) ~ prio, data = r, smethod = "LogRank", pmethod = "Lau92")
res$maxstat_rossi_prio <- list(statistic = unname(ms3$statistic), p = unname(ms3$p.value),
                               estimate = unname(ms3$estimate))
g$high_ms <- as.integer(g$score > ms$estimate)
cx_ms <- summary(coxph(Surv(time, cens) ~ high_ms, data = g))
res$maxstat_groups <- list(hr = unname(cx_ms$conf.int[1, 1]), hr_lower = unname(cx_ms$conf.int[1, 3]),
                           hr_upper = unname(cx_ms$conf.int[1, 4]))

# Youden cut-off of the cumulative/dynamic time-dependent ROC at t, KM estimator
# (Heagerty, Lumley & Pepe 2000):  Se(c) = [1 - S(t | X > c)] P(X > c) / [1 - S(t)],
# Sp(c) = S(t | X <= c) P(X <= c) / S(t), cut-offs = distinct scores, high risk = X > c.
km_at <- function(time, status, t) {
  if (length(time) == 0) return(NA_real_)
  f <- survfit(Surv(time, status) ~ 1)
  summary(f, times = t, extend = TRUE)$surv
}
t_roc <- 1095.75
S_all <- km_at(g$time, g$cens, t_roc)
cuts <- sort(unique(g$score))
roc <- t(sapply(cuts, function(cc) {
  hi <- g$score > cc
  p_hi <- mean(hi)
  S_hi <- if (any(hi)) km_at(g$time[hi], g$cens[hi], t_roc) else 1
  S_lo <- km_at(g$time[!hi], g$cens[!hi], t_roc)
  c(cut = cc, se = (1 - S_hi) * p_hi / (1 - S_all), sp = S_lo * (1 - p_hi) / S_all)
}))
roc <- as.data.frame(roc)
wcsv(roc, "td_roc_gbsg2_score.csv")
j <- roc$se + roc$sp - 1
res$youden <- list(t = t_roc, cutoff = roc$cut[which.max(j)], se = roc$se[which.max(j)],
                   sp = roc$sp[which.max(j)], J = max(j))

# ---------------------------------------------------------------- decision curves
thresholds <- (1:99) / 100
m1 <- glm(arrest ~ fin + age + prio, family = binomial, data = r)
m2 <- glm(arrest ~ prio, family = binomial, data = r)
r$risk_full <- fitted(m1)
r$risk_prio <- fitted(m2)
wcsv(data.frame(risk_full = r$risk_full, risk_prio = r$risk_prio, arrest = r$arrest), "rossi_risks.csv")
dca_binary <- function(y, risk, label) {
  prev <- mean(y)
  do.call(rbind, lapply(thresholds, function(pt) {
    tp <- mean(risk[y == 1] >= pt) * prev
    fp <- mean(risk[y == 0] >= pt) * (1 - prev)
    data.frame(label = label, threshold = pt, pos_rate = prev, test_pos_rate = mean(risk >= pt),
               tp_rate = tp, fp_rate = fp, net_benefit = tp - pt / (1 - pt) * fp)
  }))
}
y <- r$arrest
dcb <- rbind(dca_binary(y, r$risk_full, "full"), dca_binary(y, r$risk_prio, "prio"),
             dca_binary(y, rep(1, length(y)), "all"))
nb_all <- dcb$net_benefit[dcb$label == "all"]
dcb$standardized_net_benefit <- dcb$net_benefit / dcb$pos_rate
dcb$net_intervention_avoided <- (dcb$net_benefit - rep(nb_all, 3)) /
  (dcb$threshold / (1 - dcb$threshold)) * 100
wcsv(dcb, "dca_binary_rossi.csv")

# survival DCA at 5 years on gbsg2; risk = 1 - S(t | x) from the Cox model above
t_dca <- 1825
sf <- survfit(cfit, newdata = g)
g$risk5 <- 1 - as.numeric(summary(sf, times = t_dca)$surv)
wcsv(data.frame(risk5 = g$risk5), "gbsg2_risk5.csv")
prev_s <- 1 - km_at(g$time, g$cens, t_dca)
dca_surv <- function(risk, label) {
  do.call(rbind, lapply(thresholds, function(pt) {
    pos <- risk >= pt
    tpr <- mean(pos)
    rr <- if (!any(pos)) 0 else if (max(g$time[pos]) < t_dca) NA_real_ else
      1 - km_at(g$time[pos], g$cens[pos], t_dca)
    tp <- rr * tpr; fp <- (1 - rr) * tpr
    data.frame(label = label, threshold = pt, pos_rate = prev_s, test_pos_rate = tpr,
               tp_rate = tp, fp_rate = fp, net_benefit = tp - pt / (1 - pt) * fp)
  }))
}
dcs <- rbind(dca_surv(g$risk5, "cox"), dca_surv(rep(1, nrow(g)), "all"))
wcsv(dcs, "dca_survival_gbsg2.csv")

writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(out_dir, "clinical_reference.json"))
writeLines(capture.output(sessionInfo()), file.path(out_dir, "session_info.txt"))
