# Reference values for nomogram.validate / calibrate / val_prob (GitHub issue #3).
#
# Run from the repository root:
#     Rscript tests/reference/validation/validation_reference.R
# Reads  tests/reference/data/gbsg2.csv (lifelines load_gbsg2 export)
# Writes tests/reference/validation/*.csv and session_info.txt
#
# Models (as in the issue):
#   L: lrm(cens ~ rcs(age,4) + rcs(tsize,3) + pnodes + tgrade + horTh + menostat)
#   C: cph(Surv(time, cens) ~ rcs(age,4) + tgrade + rcs(pnodes,3) + horTh + tsize)
# validate(B = 400), calibrate(B = 400) with set.seed; rms 6.5 (no Lower/Upper).
suppressPackageStartupMessages({ library(rms); library(survival) })

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/validation"
datadir <- file.path(dirname(here), "data")
out <- function(x, name) write.csv(x, file.path(here, name), row.names = FALSE)
wtab <- function(v, name) {
  d <- data.frame(index = rownames(v), unclass(v)[, , drop = FALSE], check.names = FALSE)
  out(d, name)
}

d <- read.csv(file.path(datadir, "gbsg2.csv"), stringsAsFactors = FALSE)
d$horTh <- factor(d$horTh); d$menostat <- factor(d$menostat); d$tgrade <- factor(d$tgrade)
dd <- datadist(d); options(datadist = "dd")

fL <- lrm(cens ~ rcs(age, 4) + rcs(tsize, 3) + pnodes + tgrade + horTh + menostat,
          data = d, x = TRUE, y = TRUE)
fC <- cph(Surv(time, cens) ~ rcs(age, 4) + tgrade + rcs(pnodes, 3) + horTh + tsize,
          data = d, x = TRUE, y = TRUE, surv = TRUE, time.inc = 1095)

# ---- validate
set.seed(20240601); vL <- validate(fL, B = 400)
wtab(vL, "validate_lrm_boot.csv")
set.seed(20240602); vC <- validate(fC, B = 400)
wtab(vC, "validate_cph_boot.csv")
set.seed(20240603); vLcv <- validate(fL, method = "crossvalidation", B = 10)
wtab(vLcv, "validate_lrm_cv10.csv")
set.seed(20240604); vL632 <- validate(fL, method = ".632", B = 200)
wtab(vL632, "validate_lrm_632.csv")

# penalised lrm (penalty = 5): rms reports R2 from the penalised LR, D from the unpenalised
fLp <- lrm(cens ~ rcs(age, 4) + rcs(tsize, 3) + pnodes + tgrade + horTh + menostat,
           data = d, x = TRUE, y = TRUE, penalty = 5)
set.seed(20240607); vLp <- validate(fLp, B = 400)
wtab(vLp, "validate_lrm_penalty5_boot.csv")

# ---- calibrate (logistic): apparent curve and bias-corrected curve
set.seed(20240605); cL <- calibrate(fL, B = 400)
cl <- unclass(cL)
out(data.frame(cl[, c("predy", "calibrated.orig", "calibrated.corrected", "index.orig",
                      "training", "test", "optimism", "index.corrected", "n")]),
    "calibrate_lrm_boot.csv")
predicted <- attr(cL, "predicted")
s <- !is.na(cl[, "predy"] + cl[, "calibrated.corrected"])
err <- predicted - approx(cl[s, "predy"], cl[s, "calibrated.corrected"], xout = predicted,
                          ties = mean)$y
out(data.frame(mean_absolute_error = mean(abs(err), na.rm = TRUE),
               mean_squared_error = mean(err^2, na.rm = TRUE),
               quantile90_absolute_error = unname(quantile(abs(err), 0.9, na.rm = TRUE)),
               n = length(err)), "calibrate_lrm_errors.csv")

# ---- calibrate (Cox), Kaplan-Meier method at u = 1095 days, m = 100 per group
set.seed(20240606)
cC <- calibrate(fC, cmethod = "KM", u = 1095, m = 100, B = 400)
out(data.frame(unclass(cC)[, , drop = FALSE], check.names = FALSE), "calibrate_cph_km.csv")

# ---- smooth Cox calibration without HARE (Austin, Harrell & van Klaveren 2020):
#      cph on rcs(log(-log S(u)), 3); observed survival at u on a grid of predicted survival
#      (50 points between the q and 1-q quantiles, q = 10/max(n, 200) as datadist)
Su <- survest(fC, times = 1095, conf.int = 0)$surv
cll <- log(-log(Su))
fcal <- cph(Surv(d$time, d$cens) ~ rcs(cll, 3), x = TRUE, y = TRUE, surv = TRUE)
q <- 10 / max(length(Su), 200)
grid <- seq(quantile(Su, q), quantile(Su, 1 - q), length = 50)
obs <- survest(fcal, newdata = data.frame(cll = log(-log(grid))), times = 1095, conf.int = 0)$surv
obs_i <- survest(fcal, newdata = data.frame(cll = cll), times = 1095, conf.int = 0)$surv
ae <- abs(obs_i - Su)
out(data.frame(pred = grid, calibrated = obs), "calibrate_cph_spline_apparent.csv")
out(data.frame(ICI = mean(ae), E50 = median(ae), E90 = unname(quantile(ae, 0.9))),
    "calibrate_cph_spline_ici.csv")

# ---- lowess(iter = 0) on real data (predicted risk vs outcome, and with ties)
pL <- plogis(fL$linear.predictors)
lw <- lowess(pL, d$cens, iter = 0)
out(data.frame(x = lw$x, y = lw$y), "lowess_gbsg2_p.csv")
out(data.frame(p = pL, y = d$cens), "lowess_gbsg2_p_input.csv")   # R's own predictions, row order
lw2 <- lowess(d$age, d$tsize, iter = 0)          # many ties in age
out(data.frame(x = lw2$x, y = lw2$y), "lowess_gbsg2_age_tsize.csv")
lw3 <- lowess(d$age, d$tsize, f = 0.3, iter = 3)  # robustness iterations
out(data.frame(x = lw3$x, y = lw3$y), "lowess_gbsg2_age_tsize_f03_iter3.csv")

# ---- val.prob: predictions of the model fitted on the first 400 patients,
#      evaluated on the other 286 (external-validation style), and a distorted copy
fTrain <- lrm(cens ~ rcs(age, 4) + rcs(tsize, 3) + pnodes + tgrade + horTh + menostat,
              data = d[1:400, ])
pExt <- predict(fTrain, newdata = d[401:686, ], type = "fitted")
yExt <- d$cens[401:686]
pDist <- plogis(0.4 + 0.7 * qlogis(pL))
hl <- function(p, y, g = 10) {   # Hosmer-Lemeshow as ResourceSelection::hoslem.test
  br <- quantile(p, probs = seq(0, 1, 1 / g))
  cutp <- cut(p, breaks = br, include.lowest = TRUE)
  obs <- xtabs(cbind(1 - y, y) ~ cutp)
  expct <- xtabs(cbind(1 - p, p) ~ cutp)
  chisq <- sum((obs - expct)^2 / expct)
  c(HL_chi2 = chisq, HL_df = g - 2, HL_p = 1 - pchisq(chisq, g - 2))
}
vp <- function(p, y, label) {
  v <- val.prob(p, y, pl = FALSE)
  s2 <- somers2(p, y)
  c(case = label, as.list(v), as.list(hl(p, y)), C_exact = unname(s2["C"]),
    Dxy_exact = unname(s2["Dxy"]))
}
out(rbind(as.data.frame(vp(pExt, yExt, "external")), as.data.frame(vp(pDist, d$cens, "distorted")),
          as.data.frame(vp(pL, d$cens, "apparent"))), "val_prob.csv")
out(data.frame(p = pExt, y = yExt), "val_prob_external_input.csv")

# ---- session info
writeLines(c(capture.output(sessionInfo()),
             paste("rms", as.character(packageVersion("rms"))),
             paste("Hmisc", as.character(packageVersion("Hmisc"))),
             paste("survival", as.character(packageVersion("survival")))),
           file.path(here, "session_info.txt"))
