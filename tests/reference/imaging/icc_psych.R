# Reference intraclass correlations from R psych::ICC for imaging/stability.py.
#
# Inputs : icc_readings.csv (written by make_icc_readings.py: 150 real images,
#          two segmentations, 7 first-order features) and the Shrout & Fleiss
#          (1979) table 2 (6 targets x 4 judges).
# Output : icc_psych.csv, one row per (table, feature, type) with psych's
#          columns ICC, F, df1, df2, p, lower bound, upper bound.
# psych::ICC is called with lmer = FALSE: the two-way ANOVA mean squares of
# Shrout & Fleiss. (With lmer = TRUE psych takes REML variance components,
# which are truncated at zero and give a different MSW.)
# Run from the repository root: Rscript tests/reference/imaging/icc_psych.R
suppressPackageStartupMessages(library(psych))
here <- "tests/reference/imaging"
x <- read.csv(file.path(here, "icc_readings.csv"), stringsAsFactors = FALSE)
features <- setdiff(names(x), c("case", "reader"))
r1 <- x[x$reader == "reader1", ]
r2 <- x[x$reader == "reader2", ]
stopifnot(identical(r1$case, r2$case))
out <- list()
one <- function(tab, table_name, feature) {
  res <- ICC(tab, lmer = FALSE)$results[1:3, ]
  data.frame(table = table_name, feature = feature, type = res$type,
             ICC = res$ICC, F = res$F, df1 = res$df1, df2 = res$df2, p = res$p,
             lower = res[["lower bound"]], upper = res[["upper bound"]])
}
for (f in features) {
  out[[length(out) + 1]] <- one(data.frame(reader1 = r1[[f]], reader2 = r2[[f]]), "digits", f)
}
# Shrout & Fleiss (1979) table 2 (psych's example `sf`, now in psychTools).
sf <- data.frame(J1 = c(9, 6, 8, 7, 10, 6), J2 = c(2, 1, 4, 1, 5, 2),
                 J3 = c(5, 3, 6, 2, 6, 4), J4 = c(8, 2, 8, 6, 9, 7))
out[[length(out) + 1]] <- one(sf, "shrout_fleiss", "rating")
res <- do.call(rbind, out)
write.csv(res, file.path(here, "icc_psych.csv"), row.names = FALSE)
# the sf table itself, so the test does not need R
write.csv(as.data.frame(sf), file.path(here, "shrout_fleiss_sf.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("psych", packageVersion("psych"))),
           file.path(here, "icc_psych_versions.txt"))
