# Reference values for nomogram.table_one and nomogram.regression_table (base R stats + survival).
# Run from the repository root:  Rscript tests/reference/clinical/tables_reference.R
# Output: tests/reference/clinical/tables_reference.json
suppressPackageStartupMessages({ library(survival); library(jsonlite) })
out_dir <- "tests/reference/clinical"
g <- read.csv("tests/reference/data/gbsg2.csv", stringsAsFactors = FALSE)
r <- read.csv("tests/reference/data/rossi.csv")
res <- list()

# ---- Table 1 of gbsg2 by horTh (two groups)
cont <- c("age", "tsize", "pnodes", "progrec", "estrec")
two <- list()
for (v in cont) {
  a <- g[[v]][g$horTh == "no"]; b <- g[[v]][g$horTh == "yes"]
  two[[v]] <- list(
    shapiro_no = shapiro.test(a)$p.value, shapiro_yes = shapiro.test(b)$p.value,
    welch_t = unname(t.test(a, b)$statistic), welch_p = t.test(a, b)$p.value,
    student_p = t.test(a, b, var.equal = TRUE)$p.value,
    wilcox_W = unname(suppressWarnings(wilcox.test(a, b))$statistic),
    wilcox_p = suppressWarnings(wilcox.test(a, b))$p.value,
    median_no = median(a), q1_no = unname(quantile(a, 0.25)), q3_no = unname(quantile(a, 0.75)),
    mean_no = mean(a), sd_no = sd(a))
}
res$two_groups <- two
tab_m <- table(g$menostat, g$horTh); tab_t <- table(g$tgrade, g$horTh)
res$chisq_menostat <- list(stat = unname(chisq.test(tab_m)$statistic), p = chisq.test(tab_m)$p.value)  # Yates
res$chisq_tgrade <- list(stat = unname(chisq.test(tab_t)$statistic), p = chisq.test(tab_t)$p.value)

# ---- more than two groups: by tgrade
three <- list()
for (v in c("age", "tsize", "progrec")) {
  x <- g[[v]]; f <- factor(g$tgrade)
  three[[v]] <- list(
    anova_p = summary(aov(x ~ f))[[1]][["Pr(>F)"]][1],
    welch_anova_p = oneway.test(x ~ f)$p.value,
    kruskal_stat = unname(kruskal.test(x ~ f)$statistic), kruskal_p = kruskal.test(x ~ f)$p.value,
    spearman_rho = unname(suppressWarnings(cor.test(x, as.integer(f), method = "spearman", exact = FALSE))$estimate),
    spearman_p = suppressWarnings(cor.test(x, as.integer(f), method = "spearman", exact = FALSE))$p.value)
}
res$three_groups <- three

# ---- small sample (first 35 rows) by tgrade: Fisher r x c; exact Wilcoxon (no ties) on first 30 rows
s <- g[1:35, ]
res$small_fisher_menostat <- fisher.test(table(s$menostat, s$tgrade))$p.value
res$small_fisher_horTh <- fisher.test(table(s$horTh, s$tgrade))$p.value
s2 <- g[1:30, ]
set.seed(1); jitter_age <- s2$age + (1:30) / 100   # distinct values -> exact test
a <- jitter_age[s2$horTh == "no"]; b <- jitter_age[s2$horTh == "yes"]
res$small_wilcox_exact <- list(x = a, y = b, p = wilcox.test(a, b)$p.value, W = unname(wilcox.test(a, b)$statistic))
tabs <- list(matrix(c(3,1,4,2,0,5),2), matrix(c(8,2,3,1,5,4),2,byrow=TRUE), matrix(c(2,3,1,4,0,2,3,1,5),3),
             matrix(c(10,2,5,3,8,1,0,6,4,2,7,3),3), matrix(c(12,5,3,2,9,4,1,3,7,2,2,8),4))
res$fisher_tables <- lapply(tabs, function(t) list(table = t, p = fisher.test(t)$p.value))

# ---- univariable / multivariable logistic on rossi (Wald CIs: confint.default; glm run to
#      epsilon = 1e-14 because its default 1e-8 leaves p-values off in the 6th digit)
vars <- c("fin", "age", "race", "wexp", "mar", "paro", "prio")
uni <- list()
for (v in vars) {
  m <- glm(as.formula(paste("arrest ~", v)), family = binomial, data = r, control = glm.control(epsilon = 1e-14, maxit = 100))
  ci <- exp(confint.default(m))[2, ]
  uni[[v]] <- list(or = unname(exp(coef(m))[2]), lower = unname(ci[1]), upper = unname(ci[2]),
                   p = summary(m)$coefficients[2, 4])
}
res$logistic_uni <- uni
sel <- vars[sapply(uni, function(u) u$p < 0.05)]
m <- glm(as.formula(paste("arrest ~", paste(sel, collapse = "+"))), family = binomial, data = r, control = glm.control(epsilon = 1e-14, maxit = 100))
ci <- exp(confint.default(m))[-1, , drop = FALSE]
res$logistic_multi <- list(selected = sel, or = unname(exp(coef(m))[-1]), lower = unname(ci[, 1]),
                           upper = unname(ci[, 2]), p = unname(summary(m)$coefficients[-1, 4]))

# ---- univariable / multivariable Cox on gbsg2 (tgrade as a factor: joint Wald test; coxph run to
#      eps = 1e-14: its default 1e-9 leaves some univariable p-values off in the 7th digit)
g$tgrade <- factor(g$tgrade); g$horTh <- factor(g$horTh); g$menostat <- factor(g$menostat)
cvars <- c("horTh", "age", "menostat", "tsize", "tgrade", "pnodes", "progrec", "estrec")
cuni <- list()
for (v in cvars) {
  m <- coxph(as.formula(paste("Surv(time, cens) ~", v)), data = g, ties = "efron",
             control = coxph.control(eps = 1e-14, toler.chol = 1e-15, iter.max = 100))
  sm <- summary(m)
  b <- coef(m); V <- vcov(m)
  cuni[[v]] <- list(terms = names(b), hr = unname(sm$conf.int[, 1]), lower = unname(sm$conf.int[, 3]),
                    upper = unname(sm$conf.int[, 4]), p = unname(sm$coefficients[, 5]),
                    var_p = pchisq(drop(t(b) %*% solve(V) %*% b), length(b), lower.tail = FALSE))
}
res$cox_uni <- cuni
csel <- cvars[sapply(cuni, function(u) u$var_p < 0.05)]
m <- coxph(as.formula(paste("Surv(time, cens) ~", paste(csel, collapse = "+"))), data = g, ties = "efron",
             control = coxph.control(eps = 1e-14, toler.chol = 1e-15, iter.max = 100))
sm <- summary(m)
res$cox_multi <- list(selected = csel, terms = names(coef(m)), hr = unname(sm$conf.int[, 1]),
                      lower = unname(sm$conf.int[, 3]), upper = unname(sm$conf.int[, 4]),
                      p = unname(sm$coefficients[, 5]))

writeLines(toJSON(res, digits = I(17), auto_unbox = TRUE, pretty = TRUE),
           file.path(out_dir, "tables_reference.json"))
