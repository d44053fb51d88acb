# Reference ComBat output from Bioconductor sva::ComBat for imaging/harmonization.py.
#
# Input : combat_input.csv (make_combat_input.py: 569 real WDBC patients, 30 real
#         image features with simulated centre effects, centres A/B/C,
#         covariates diagnosis (real) and age (simulated integers)).
# Output: combat_sva_<case>.csv, the harmonised features (patients x features,
#         17 significant digits), for the cases
#           covariates : mod = model.matrix(~ diagnosis + age), par.prior = TRUE
#           nocov      : mod = NULL, par.prior = TRUE
#           ref_A      : as covariates, ref.batch = "A"
#           mean_only  : as covariates, mean.only = TRUE
# Run from the repository root: Rscript tests/reference/imaging/combat_sva.R
suppressPackageStartupMessages(library(sva))
here <- "tests/reference/imaging"
x <- read.csv(file.path(here, "combat_input.csv"), stringsAsFactors = FALSE)
features <- setdiff(names(x), c("patient", "centre", "diagnosis", "age"))
dat <- t(as.matrix(x[, features]))
batch <- factor(x$centre)
x$diagnosis <- factor(x$diagnosis, levels = c("benign", "malignant"))
mod <- model.matrix(~ diagnosis + age, data = x)
save <- function(res, name) {
  out <- t(res)
  out <- apply(out, 2, function(v) sprintf("%.17g", v))
  df <- data.frame(patient = x$patient, out, check.names = FALSE)
  write.csv(df, file.path(here, paste0("combat_sva_", name, ".csv")), row.names = FALSE, quote = FALSE)
}
run <- function(...) { r <- NULL; invisible(capture.output(r <- ComBat(...))); r }
save(run(dat = dat, batch = batch, mod = mod, par.prior = TRUE), "covariates")
save(run(dat = dat, batch = batch, mod = NULL, par.prior = TRUE), "nocov")
save(run(dat = dat, batch = batch, mod = mod, par.prior = TRUE, ref.batch = "A"), "ref_A")
save(run(dat = dat, batch = batch, mod = mod, par.prior = TRUE, mean.only = TRUE), "mean_only")
writeLines(c(R.version.string, paste("sva", packageVersion("sva"))),
           file.path(here, "combat_sva_versions.txt"))
