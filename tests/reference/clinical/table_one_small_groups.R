# Reference values for nomogram.table_one when a group has fewer than 3 patients and the
# user forces the test (issue #13): t-tests, ANOVA, Wilcoxon and Kruskal-Wallis with
# a group of 2 (and of 1), where Shapiro-Wilk cannot run.
# Run from the repository root:  Rscript tests/reference/clinical/table_one_small_groups.R
# Output: tests/reference/clinical/table_one_small_groups.json
#
# Data: subsets of tests/reference/data/gbsg2.csv chosen by row order, so Python
# rebuilds them exactly (see tests/nomogram/clinical/test_table_one_small_groups.py):
#   two:   the first 20 horTh == "no" rows and the first 2 horTh == "yes" rows
#   three: the first 15 tgrade == "II", first 10 tgrade == "III", first 2 tgrade == "I"
#   one:   the first 20 horTh == "no" rows and the first horTh == "yes" row
suppressPackageStartupMessages(library(jsonlite))
g <- read.csv("tests/reference/data/gbsg2.csv", stringsAsFactors = FALSE)
two <- rbind(head(g[g$horTh == "no", ], 20), head(g[g$horTh == "yes", ], 2))
three <- rbind(head(g[g$tgrade == "II", ], 15), head(g[g$tgrade == "III", ], 10),
               head(g[g$tgrade == "I", ], 2))
one <- rbind(head(g[g$horTh == "no", ], 20), head(g[g$horTh == "yes", ], 1))
res <- list(versions = list(R = R.version.string, jsonlite = as.character(packageVersion("jsonlite"))))
for (v in c("age", "tsize")) {
  a <- two[[v]][two$horTh == "no"]; b <- two[[v]][two$horTh == "yes"]
  w <- suppressWarnings(wilcox.test(a, b))
  res$two[[v]] <- list(
    welch_t = unname(t.test(a, b)$statistic), welch_p = t.test(a, b)$p.value,
    student_t = unname(t.test(a, b, var.equal = TRUE)$statistic),
    student_p = t.test(a, b, var.equal = TRUE)$p.value,
    wilcox_W = unname(w$statistic), wilcox_p = w$p.value,
    mean_yes = mean(b), sd_yes = sd(b))
  x <- three[[v]]; grp <- factor(three$tgrade)
  res$three[[v]] <- list(
    anova_F = unname(oneway.test(x ~ grp, var.equal = TRUE)$statistic),
    anova_p = oneway.test(x ~ grp, var.equal = TRUE)$p.value,
    welch_F = unname(oneway.test(x ~ grp)$statistic),
    welch_p = oneway.test(x ~ grp)$p.value,
    kruskal_H = unname(kruskal.test(x ~ grp)$statistic),
    kruskal_p = kruskal.test(x ~ grp)$p.value)
  a <- one[[v]][one$horTh == "no"]; b <- one[[v]][one$horTh == "yes"]
  res$one[[v]] <- list(
    student_t = unname(t.test(a, b, var.equal = TRUE)$statistic),
    student_p = t.test(a, b, var.equal = TRUE)$p.value,
    welch_error = tryCatch({t.test(a, b); "none"}, error = function(e) conditionMessage(e)))
}
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/clinical/table_one_small_groups.json")
cat("done\n")
