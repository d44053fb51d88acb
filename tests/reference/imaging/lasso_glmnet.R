# Reference LASSO paths from R glmnet for imaging/signature.py.
#
# Inputs : lasso_binomial_input.csv, lasso_cox_input.csv, lasso_lambdas.json
#          (make_lasso_input.py: real WDBC and GBSG2 data, z-scored).
# Output : lasso_glmnet_binomial.csv (lambda, intercept, coefficients) and
#          lasso_glmnet_cox.csv, lasso_glmnet_cox_untied.csv (lambda, coefficients),
#          17 significant digits.
# glmnet minimises -loglik/n + lambda * sum|beta| (alpha = 1); standardize = FALSE
# because the inputs are already z-scored; thresh = 1e-14 for tight convergence.
# Cox ties: glmnet 4.1 uses Breslow.
# Run from the repository root: Rscript tests/reference/imaging/lasso_glmnet.R
suppressPackageStartupMessages(library(glmnet))
here <- "tests/reference/imaging"
lam_txt <- paste(readLines(file.path(here, "lasso_lambdas.json")), collapse = "")
grab <- function(key) {
  m <- regmatches(lam_txt, regexpr(paste0('"', key, '": \\[[^]]*\\]'), lam_txt))
  as.numeric(strsplit(gsub(".*\\[|\\]", "", m), ",")[[1]])
}
fmt <- function(df) { for (j in seq_along(df)) df[[j]] <- sprintf("%.17g", df[[j]]); df }

b <- read.csv(file.path(here, "lasso_binomial_input.csv"))
xb <- as.matrix(b[, setdiff(names(b), "y")])
fb <- glmnet(xb, b$y, family = "binomial", alpha = 1, lambda = grab("binomial"),
             standardize = FALSE, thresh = 1e-14, maxit = 1e7)
cb <- as.matrix(coef(fb))
outb <- data.frame(lambda = fb$lambda, t(cb), check.names = FALSE)
names(outb)[2] <- "intercept"
write.csv(fmt(outb), file.path(here, "lasso_glmnet_binomial.csv"), row.names = FALSE, quote = FALSE)

for (case in c("cox", "cox_untied")) {
  cx <- read.csv(file.path(here, paste0("lasso_", case, "_input.csv")))
  xc <- as.matrix(cx[, setdiff(names(cx), c("time", "event"))])
  fc <- glmnet(xc, cbind(time = cx$time, status = cx$event), family = "cox", alpha = 1,
               lambda = grab("cox"), standardize = FALSE, thresh = 1e-14, maxit = 1e7)
  cc <- as.matrix(coef(fc))
  outc <- data.frame(lambda = fc$lambda, t(cc), check.names = FALSE)
  write.csv(fmt(outc), file.path(here, paste0("lasso_glmnet_", case, ".csv")), row.names = FALSE, quote = FALSE)
}
writeLines(c(R.version.string, paste("glmnet", packageVersion("glmnet"))),
           file.path(here, "lasso_glmnet_versions.txt"))
