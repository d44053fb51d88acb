# Reference values for nomogram.metrics (discrimination of binary outcomes).
#
# Run from the repository root:
#     Rscript tests/reference/pROC/proc_reference.R
# Reads  tests/reference/data/rossi.csv  (Rossi et al. 1980 recidivism data, as
#        shipped by lifelines.datasets.load_rossi; 432 released prisoners
#        followed for exactly 52 weeks, so `arrest` is a clean binary outcome).
# Writes tests/reference/pROC/rossi_scores.csv  (outcome + the scores compared)
#        tests/reference/pROC/proc_reference.json (pROC / Hmisc / stats results)
#
# Scores: fitted probabilities of two logistic models (glm) and two raw
# variables with many ties (prio: number of prior convictions; age, whose
# direction is controls > cases).
suppressPackageStartupMessages({
  library(pROC)
  library(Hmisc)
  library(jsonlite)
})

here <- "tests/reference/pROC"
rossi <- read.csv("tests/reference/data/rossi.csv")

m1 <- glm(arrest ~ fin + age + prio, family = binomial, data = rossi)
m2 <- glm(arrest ~ fin + age + race + wexp + mar + paro + prio, family = binomial, data = rossi)
scores <- data.frame(
  arrest = rossi$arrest, fin = rossi$fin,
  p1 = fitted(m1), p2 = fitted(m2),
  prio = rossi$prio, age = rossi$age
)
write.csv(scores, file.path(here, "rossi_scores.csv"), row.names = FALSE)
# Re-read so that R works on exactly the digits Python reads.
scores <- read.csv(file.path(here, "rossi_scores.csv"))

out <- list(
  pROC_version = as.character(packageVersion("pROC")),
  Hmisc_version = as.character(packageVersion("Hmisc")),
  R_version = R.version.string,
  scores_md5 = unname(tools::md5sum(file.path(here, "rossi_scores.csv")))
)

one_score <- function(name, direction) {
  r <- roc(scores$arrest, scores[[name]], levels = c(0, 1), direction = direction, quiet = TRUE)
  ci_d <- ci.auc(r, method = "delong", conf.level = 0.95)
  ci_d90 <- ci.auc(r, method = "delong", conf.level = 0.90)
  set.seed(20240501)
  ci_b <- ci.auc(r, method = "bootstrap", boot.n = 2000, boot.stratified = TRUE)
  best <- coords(r, x = "best", best.method = "youden", transpose = FALSE,
                 ret = c("threshold", "sensitivity", "specificity", "ppv", "npv",
                         "accuracy", "tp", "fp", "tn", "fn"))
  sp_grid <- seq(0, 1, .1)
  se_at_sp <- coords(r, x = sp_grid, input = "specificity", ret = "sensitivity", transpose = FALSE)
  set.seed(20240502)
  cise <- ci.se(r, specificities = sp_grid, boot.n = 2000, boot.stratified = TRUE)
  # Wilson score (prop.test without continuity correction) and Clopper-Pearson
  # (binom.test) intervals for sensitivity and specificity at the first Youden cut-off.
  tp <- best$tp[1]; fn <- best$fn[1]; tn <- best$tn[1]; fp <- best$fp[1]
  wil <- function(x, n) as.numeric(prop.test(x, n, correct = FALSE)$conf.int)
  cp <- function(x, n) as.numeric(binom.test(x, n)$conf.int)
  list(
    direction = r$direction,
    auc = as.numeric(r$auc),
    n_cases = length(r$cases), n_controls = length(r$controls),
    delong_ci = as.numeric(ci_d), delong_ci_90 = as.numeric(ci_d90),
    delong_var = as.numeric(var(r, method = "delong")),
    bootstrap_ci = as.numeric(ci_b),
    thresholds = r$thresholds, sensitivities = r$sensitivities, specificities = r$specificities,
    youden = best,
    se_at_sp = list(specificity = sp_grid, sensitivity = se_at_sp$sensitivity),
    ci_se = list(specificity = sp_grid, lower = cise[, 1], median = cise[, 2], upper = cise[, 3]),
    wilson = list(sensitivity = wil(tp, tp + fn), specificity = wil(tn, tn + fp),
                  ppv = wil(tp, tp + fp), npv = wil(tn, tn + fn), accuracy = wil(tp + tn, tp + tn + fp + fn)),
    clopper_pearson = list(sensitivity = cp(tp, tp + fn), specificity = cp(tn, tn + fp),
                           ppv = cp(tp, tp + fp), npv = cp(tn, tn + fn), accuracy = cp(tp + tn, tp + tn + fp + fn))
  )
}
out$scores <- list(p1 = one_score("p1", "<"), p2 = one_score("p2", "<"),
                   prio = one_score("prio", "<"), age = one_score("age", ">"))

# direction = "auto" (pROC's own default) on age: medians decide.
r_auto <- roc(scores$arrest, scores$age, levels = c(0, 1), quiet = TRUE)
out$age_auto_direction <- r_auto$direction

# Paired DeLong tests (roc.test(method = "delong", paired = TRUE)).
paired <- function(a, b) {
  r1 <- roc(scores$arrest, scores[[a]], levels = c(0, 1), direction = "<", quiet = TRUE)
  r2 <- roc(scores$arrest, scores[[b]], levels = c(0, 1), direction = "<", quiet = TRUE)
  t <- roc.test(r1, r2, method = "delong", paired = TRUE, conf.level = 0.95)
  list(Z = as.numeric(t$statistic), p = t$p.value, conf_int = as.numeric(t$conf.int),
       auc1 = as.numeric(r1$auc), auc2 = as.numeric(r2$auc),
       p_greater = roc.test(r1, r2, method = "delong", paired = TRUE, alternative = "greater")$p.value)
}
out$paired <- list(p2_vs_p1 = paired("p2", "p1"), p1_vs_prio = paired("p1", "prio"))

# Unpaired DeLong test: score p2 in two independent groups (fin = 0 vs fin = 1).
g0 <- scores[scores$fin == 0, ]
g1 <- scores[scores$fin == 1, ]
ra <- roc(g0$arrest, g0$p2, levels = c(0, 1), direction = "<", quiet = TRUE)
rb <- roc(g1$arrest, g1$p2, levels = c(0, 1), direction = "<", quiet = TRUE)
tu <- roc.test(ra, rb, method = "delong", paired = FALSE)
out$unpaired <- list(D = as.numeric(tu$statistic), df = as.numeric(tu$parameter), p = tu$p.value,
                     auc1 = as.numeric(ra$auc), auc2 = as.numeric(rb$auc))

# Reclassification: Hmisc::improveProb (continuous NRI, IDI) of p2 over p1 and,
# on risk categories [0, .2), [.2, .4), [.4, 1], the categorical NRI (improveProb on
# category codes / 10 gives the Pencina 2008 categorical NRI with the same variance).
ip <- improveProb(scores$p1, scores$p2, scores$arrest)
cuts <- c(0.2, 0.4)
c1 <- findInterval(scores$p1, cuts) / 10
c2 <- findInterval(scores$p2, cuts) / 10
ipc <- improveProb(c1, c2, scores$arrest)
pick <- function(o) o[c("n", "na", "nb", "pup.ev", "pup.ne", "pdown.ev", "pdown.ne", "nri", "se.nri",
                        "z.nri", "nri.ev", "se.nri.ev", "nri.ne", "se.nri.ne", "idi", "se.idi", "z.idi")]
out$improveProb <- list(continuous = pick(unclass(ip)), categorical = pick(unclass(ipc)), cuts = cuts)

write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, dataframe = "columns"),
      file.path(here, "proc_reference.json"))
cat("wrote", file.path(here, "proc_reference.json"), "\n")
