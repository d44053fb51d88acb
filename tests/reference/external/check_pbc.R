# External check (issue #2 "done when"): a real data set that is not in the repository,
# survival::pbc, fitted by rms 6.5 and by nomofuse. Run: Rscript check_pbc.R OUT_DIR && python check_pbc.py OUT_DIR
args <- commandArgs(TRUE); OUT_DIR <- if (length(args)) args[1] else tempdir()
suppressMessages({library(rms); library(survival); library(jsonlite)})
data(pbc, package="survival")
d <- pbc[complete.cases(pbc[, c("time","status","age","bili","edema","stage","sex","albumin","protime")]), c("time","status","age","bili","edema","stage","sex","albumin","protime")]
d$death <- as.integer(d$status == 2)
d$edema <- factor(d$edema); d$stage <- factor(d$stage); d$sex <- factor(d$sex)
write.csv(d, file.path(OUT_DIR, "pbc.csv"), row.names=FALSE)
dd <- datadist(d); options(datadist="dd")
f <- lrm(death ~ rcs(age,4) + rcs(bili,4) + edema + stage + sex + albumin + protime, data=d)
g <- cph(Surv(time, death) ~ rcs(age,4) + rcs(bili,4) + edema + stage + sex + albumin, data=d, x=TRUE, y=TRUE, surv=TRUE)
nf <- nomogram(f, fun=plogis, funlabel="Risk")
surv <- Survival(g)
ng <- nomogram(g, fun=list(function(x) surv(1825, x), function(x) surv(3650, x)), funlabel=c("S5","S10"))
ax <- function(nom) lapply(nom, function(a) list(points=if (!is.null(a$points)) a$points else a$x))
se <- survest(g, newdata=d[1:20,], times=c(1825, 3650))
out <- list(lrm_coef=as.list(coef(f)), cph_coef=as.list(coef(g)), lrm_nom=ax(nf), cph_nom=ax(ng), survest=se$surv, n=nrow(d))
write(toJSON(out, digits=NA, auto_unbox=TRUE), file.path(OUT_DIR, "ref.json"))
