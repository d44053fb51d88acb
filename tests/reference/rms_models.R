# Reference values for nomofuse's LogisticNomogram / CoxNomogram (GitHub issue #2).
#
# Run from the repository root:
#     Rscript tests/reference/rms_models.R
# Reads  tests/reference/data/{gbsg2,rossi}.csv  (exported from lifelines, see README.md)
# Writes tests/reference/rms_models/<MODEL>.json, one file per fitted model, plus
#        tests/reference/rms_models/session_info.txt
#
# Every JSON file has the same layout (see tests/reference/README.md, "JSON layout"):
#   meta, design, coefficients, var, stats, deviance/loglik, linear_predictors,
#   datadist, first10 (predictions for rows 1..10), nomogram(s), and for cph the
#   baseline survival pieces.
#
# Numbers are written with jsonlite digits=NA (15 significant digits); NA, NaN and
# +-Inf are written as null.
#
# Per-patient nomogram points (rms has no function for this) are computed here
# exactly as nomogram() places its axes, see points_per_patient() below:
#   1. T = predictrms(fit, newdata, type="terms", center.terms=FALSE): the
#      uncentered contribution of each model term (sum over the term's design
#      columns of x_col * beta_col) for each row.
#   2. For each axis-owning predictor p, effect(p) = the terms nomogram() sums for
#      that axis (attr(nom[[axis]], "info")$effect.name: the predictor alone, or for
#      a predictor in an interaction, the predictor, its interacting partners and the
#      interaction terms).  contribution_i(p) = sum of T[i, effect(p)].
#   3. points_i(p) = (contribution_i(p) - R[1, p]) * sc, with R (row 1 = minimum of
#      the axis's Xbeta over all its axis lines) and sc = maxscale / max(R[2,]-R[1,])
#      from attr(nom, "info").
#   4. total_i = sum_p points_i(p);  LP_i = info$Intercept + total_i / sc, which
#      equals predict(fit, newdata) (lrm: with intercept; cph: centered, i.e.
#      X beta - fit$center).  The script checks this identity and stores the
#      maximum absolute difference.

suppressPackageStartupMessages({
  library(rms)
  library(survival)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference"
datadir <- file.path(here, "data")
outdir  <- file.path(here, "rms_models")
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)

# ---------------------------------------------------------------- data
read_gbsg2 <- function() {
  d <- read.csv(file.path(datadir, "gbsg2.csv"), stringsAsFactors = FALSE)
  # factors with default (alphabetical) levels
  d$horTh    <- factor(d$horTh)     # no, yes
  d$menostat <- factor(d$menostat)  # Post, Pre
  d$tgrade   <- factor(d$tgrade)    # I, II, III
  stopifnot(identical(levels(d$tgrade), c("I", "II", "III")),
            identical(levels(d$horTh), c("no", "yes")),
            identical(levels(d$menostat), c("Post", "Pre")),
            nrow(d) == 686)
  d
}
read_rossi <- function() {
  d <- read.csv(file.path(datadir, "rossi.csv"), stringsAsFactors = FALSE)
  stopifnot(nrow(d) == 432)
  d   # all columns integer; fin, race, wexp, mar, paro stay numeric 0/1
}
gbsg2 <- read_gbsg2()
rossi <- read_rossi()

# ---------------------------------------------------------------- JSON helpers
named_list <- function(x) {
  # named atomic vector -> JSON object (keeps order); factors -> strings
  if (is.factor(x)) x <- as.character(x)
  nm <- names(x)
  out <- lapply(seq_along(x), function(i) unname(x[[i]]))
  names(out) <- nm
  out
}
mat <- function(m) {
  if (is.null(m)) return(NULL)
  m <- as.matrix(m)
  list(rownames = if (is.null(rownames(m))) NULL else rownames(m),
       colnames = if (is.null(colnames(m))) NULL else colnames(m),
       values = unname(m))
}
write_model <- function(obj, name) {
  path <- file.path(outdir, paste0(name, ".json"))
  txt <- toJSON(obj, digits = NA, auto_unbox = TRUE, na = "null",
                null = "null", pretty = TRUE, matrix = "rowmajor")
  writeLines(txt, path)
  cat("wrote", path, "\n")
}

versions <- list(
  R = R.version.string,
  rms = as.character(packageVersion("rms")),
  Hmisc = as.character(packageVersion("Hmisc")),
  survival = as.character(packageVersion("survival")),
  jsonlite = as.character(packageVersion("jsonlite")),
  platform = R.version$platform
)

# ---------------------------------------------------------------- pieces
design_info <- function(fit) {
  at <- fit$Design
  parms <- list()
  for (nm in names(at$parms)) {
    p <- at$parms[[nm]]
    if (is.matrix(p)) next   # interaction bookkeeping matrix, see interactions
    parms[[nm]] <- I(if (is.factor(p)) as.character(p) else unname(p))
  }
  list(
    name = I(at$name),
    label = I(unname(at$label)),
    assume = I(unname(at$assume)),
    assume_code = I(unname(at$assume.code)),
    colnames = I(at$colnames),
    nonlinear = lapply(at$nonlinear, function(z) I(as.logical(z))),
    parms = parms,                      # rcs knots; category levels
    interactions = if (length(at$interactions)) mat(at$interactions) else NULL
  )
}

datadist_info <- function(dd, vars) {
  lims <- list()
  rn <- rownames(dd$limits)
  if (is.null(rn)) rn <- c("Low:effect", "Adjust to", "High:effect",
                           "Low:prediction", "High:prediction", "Low", "High")
  for (v in vars) {
    z <- dd$limits[[v]]
    zz <- if (is.factor(z)) as.character(z) else as.numeric(unclass(z))
    names(zz) <- rn
    lims[[v]] <- named_list(zz)
  }
  vals <- list()
  for (v in intersect(vars, names(dd$values))) {
    z <- dd$values[[v]]
    vals[[v]] <- if (is.factor(z)) as.character(z) else unname(z)
  }
  list(limits = lims, values = vals)
}

# How plot.nomogram() would label and split one predictor axis (rms 6.5-0,
# plot.nomogram.s): runs of equal points are merged into one tick labelled
# "a-b" (or "a+" for a trailing run of a continuous variable); then the axis is
# split wherever the direction of the points changes; discrete axes alternate
# labels below/above in order of their points.
plot_layout <- function(el, discrete) {
  x <- el[[1]]
  fx <- if (is.character(x) || is.factor(x)) as.character(x)
        else sapply(x, function(v) gsub(" ", "", format(v)))
  xt <- el$points
  r <- rle(xt)
  if (any(r$lengths > 1)) {
    is <- 1
    for (j in r$lengths) {
      ie <- is + j - 1
      if (j > 1) {
        fx[ie] <- if (discrete || ie < length(xt)) paste(fx[is], "-", fx[ie], sep = "")
                  else paste(fx[is], "+", sep = "")
        fx[is:(ie - 1)] <- ""
        xt[is:(ie - 1)] <- NA
      }
      is <- ie + 1
    }
    fx <- fx[!is.na(xt)]; xt <- xt[!is.na(xt)]
  }
  ch <- if (length(xt) > 2) c(FALSE, FALSE, diff(diff(xt) > 0) != 0)
        else rep(FALSE, length(xt))
  segs <- list()
  if (discrete && length(xt) > 1) {
    j <- order(xt)
    for (k in 1:2) {
      is <- j[seq(k, length(j), by = 2)]
      segs[[k]] <- list(side = c(1, 3)[k], index = I(is), at = I(xt[is]),
                        labels = I(fx[is]))
    }
  } else if (!any(ch)) {
    segs[[1]] <- list(side = 1, index = I(seq_along(xt)), at = I(xt), labels = I(fx))
  } else {
    j <- (1:length(ch))[ch]
    if (max(j) < length(ch)) j <- c(j, length(ch) + 1)
    flag <- 1; is <- 1
    for (k in j) {
      ie <- k - 1
      segs[[length(segs) + 1]] <- list(side = c(1, 3)[flag], index = I(is:ie),
                                       at = I(xt[is:ie]), labels = I(fx[is:ie]))
      flag <- if (flag == 2) 1 else 2
      is <- ie + 1
    }
  }
  list(labels = I(fx), at = I(xt), direction_change = I(ch), segments = segs,
       note = "index is 1-based into labels/at; side 1 = below the line, 3 = above")
}

nomogram_info <- function(nom) {
  info <- attr(nom, "info")
  axes <- list()
  for (k in seq_along(nom)) {
    el <- nom[[k]]
    nm <- names(nom)[k]
    ai <- attr(el, "info")
    if (nm %in% c("total.points")) {
      axes[[length(axes) + 1]] <- list(axis = nm, kind = "total.points",
                                       x = unname(el$x))
    } else if (nm == "lp") {
      axes[[length(axes) + 1]] <- list(axis = nm, kind = "lp",
                                       x = unname(el$x),
                                       x_real = unname(el$x.real))
    } else if (!is.null(el$fat)) {
      axes[[length(axes) + 1]] <- list(axis = nm, kind = "fun",
                                       x = unname(el$x),
                                       x_real = unname(el$x.real),
                                       fat = unname(el$fat),
                                       which = unname(el$which))
    } else {
      vname <- names(el)[1]
      v <- el[[1]]
      others <- list()
      for (o in setdiff(names(el), c(vname, "Xbeta", "points", "Xbeta.whole",
                                     "se.fit"))) {
        others[[o]] <- if (is.factor(el[[o]])) as.character(el[[o]]) else el[[o]]
      }
      axes[[length(axes) + 1]] <- list(
        axis = nm, kind = "predictor", predictor = vname,
        type = ai$type, effect_name = I(ai$effect.name),
        values = if (is.factor(v)) as.character(v) else unname(v),
        values_text = if (is.character(v) || is.factor(v)) as.character(v)
                      else gsub(" ", "", format(v)) ,
        held_at = if (length(others)) others else NULL,
        Xbeta = unname(el$Xbeta), points = unname(el$points),
        plot_layout = plot_layout(el, isTRUE(info$discrete[[vname]])))
    }
  }
  R <- info$R
  list(
    axes = axes,
    info = list(
      sc = info$sc, maxscale = info$maxscale, Intercept = unname(info$Intercept),
      nint = info$nint, lp = info$lp, lp_at = unname(info$lp.at),
      R = list(predictors = I(colnames(R)), min = I(unname(R[1, ])),
               max = I(unname(R[2, ]))),
      discrete = named_list(info$discrete),
      funlabel = info$funlabel,
      fun_at = if (length(info$fun.at)) lapply(info$fun.at, unname) else NULL,
      space_used = named_list(info$space.used),
      points_per_lp_unit = diff(range(nom$lp$x)) / diff(range(nom$lp$x.real))
    )
  )
}

# Per-patient points, see the header of this file for the method.
points_per_patient <- function(fit, nom, newdata) {
  info <- attr(nom, "info")
  R <- info$R; sc <- info$sc
  terms <- predictrms(fit, newdata = newdata, type = "terms",
                      center.terms = FALSE, se.fit = FALSE)
  pts <- matrix(NA_real_, nrow(newdata), ncol(R),
                dimnames = list(NULL, colnames(R)))
  effect <- list()
  for (k in seq_along(nom)) {
    ai <- attr(nom[[k]], "info")
    if (is.null(ai)) next
    p <- ai$predictor
    if (is.null(effect[[p]])) effect[[p]] <- ai$effect.name
  }
  for (p in colnames(R)) {
    contrib <- rowSums(terms[, effect[[p]], drop = FALSE])
    pts[, p] <- (contrib - R[1, p]) * sc
  }
  total <- rowSums(pts)
  lp_from_points <- info$Intercept + total / sc
  lp_pred <- predict(fit, newdata = newdata)   # lrm: with intercept; cph: centered
  list(
    predictors = I(colnames(R)),
    effect_terms = lapply(effect, I),
    terms = mat(terms),
    points = mat(pts),
    total_points = unname(total),
    lp_from_points = unname(lp_from_points),
    lp_predict = unname(lp_pred),
    max_abs_diff_lp = max(abs(lp_from_points - lp_pred))
  )
}

# design matrix rows as rms builds them, with rms's column names
design_x <- function(fit, newdata) {
  X <- predict(fit, newdata = newdata, type = "x")
  stopifnot(ncol(X) == length(fit$Design$colnames))
  colnames(X) <- fit$Design$colnames
  X
}

common <- function(fit, name, formula_text, data, dd, vars) {
  list(
    meta = list(model = name, call = formula_text,
                fitter = class(fit)[1], versions = versions,
                n = nrow(data)),
    design = design_info(fit),
    coefficients = list(names = names(coef(fit)), values = unname(coef(fit))),
    var = mat(vcov(fit, intercepts = "all")),
    stats = named_list(fit$stats),
    linear_predictors = unname(fit$linear.predictors),
    predict_lp = unname(predict(fit)),
    datadist = datadist_info(dd, vars)
  )
}

# ---------------------------------------------------------------- lrm models
do_lrm <- function(name, formula, data, vars, nomo = TRUE, extra_nomo = FALSE,
                   penalty = NULL) {
  dd <- datadist(data); options(datadist = dd)
  assign("dd", dd, envir = .GlobalEnv)
  fit <- if (is.null(penalty))
    lrm(formula, data = data, x = TRUE, y = TRUE)
  else lrm(formula, data = data, x = TRUE, y = TRUE, penalty = penalty)
  ftxt <- paste(deparse(formula), collapse = " ")
  if (!is.null(penalty)) ftxt <- paste0(ftxt, ", penalty=", penalty)
  out <- common(fit, name, ftxt, data, dd, vars)
  out$deviance <- unname(fit$deviance)
  out$deviance_note <- paste("-2 log likelihood: [1] intercept-only, [2] final;",
                             "for penalized fits [2] includes the penalty,",
                             "i.e. -2 (LL - 0.5 beta' P beta)")
  out$freq <- named_list(fit$freq)
  # lrm.fit's stopping rule (|change in -2LL| <= 0.025, then one more Newton
  # step) is effectively full convergence; record the distance to a tight glm.
  if (is.null(penalty)) {
    gl <- glm(fit$y ~ fit$x, family = binomial,
              control = glm.control(epsilon = 1e-14, maxit = 100))
    out$max_rel_coef_diff_vs_tight_glm <- max(abs(coef(gl) - coef(fit)) / abs(coef(gl)))
  }
  if (!is.null(penalty)) {
    out$penalty <- fit$penalty
    out$penalty_matrix <- mat(fit$penalty.matrix)
    out$effective_df_diagonal <- named_list(fit$effective.df.diagonal)
    out$info_matrix <- mat(fit$info.matrix)
    # unpenalized -2LL at the penalized estimates (what rms uses for Model L.R.)
    f0 <- lrm.fit(fit$x, fit$y, initial = coef(fit), maxit = 1)
    out$unpenalized_deviance_at_estimate <- unname(f0$deviance)
    out$penalty_term <- as.numeric(t(coef(fit)[-1]) %*% fit$penalty.matrix %*%
                                   coef(fit)[-1])
  }
  first <- data[1:10, ]
  out$first10 <- list(
    lp = unname(predict(fit, newdata = first)),
    prob = unname(predict(fit, newdata = first, type = "fitted")),
    X = mat(design_x(fit, first))
  )
  if (nomo) {
    nom <- tryCatch(nomogram(fit, fun = plogis, funlabel = "Risk"),
                    error = function(e) e)
    if (inherits(nom, "error")) {
      out$nomogram_error <- conditionMessage(nom)
    } else {
      out$nomogram <- nomogram_info(nom)
      out$nomogram$call <- 'nomogram(fit, fun=plogis, funlabel="Risk")'
      out$nomogram$points_first10 <- points_per_patient(fit, nom, first)
      out$nomogram$print <- capture.output(print(nom))
    }
  }
  if (extra_nomo) {
    nom2 <- nomogram(fit, fun = plogis,
                     fun.at = c(.05, .1, .2, .3, .4, .5, .6, .7),
                     lp = TRUE, maxscale = 100, age = seq(30, 80, by = 10))
    out$nomogram_explicit <- nomogram_info(nom2)
    out$nomogram_explicit$call <- paste0(
      "nomogram(fit, fun=plogis, fun.at=c(.05,.1,.2,.3,.4,.5,.6,.7), ",
      "lp=TRUE, maxscale=100, age=seq(30,80,by=10))")
    out$nomogram_explicit$points_first10 <- points_per_patient(fit, nom2, first)
    out$nomogram_explicit$print <- capture.output(print(nom2))
  }
  write_model(out, name)
  invisible(fit)
}

gvars <- c("age", "tsize", "pnodes", "tgrade", "horTh", "menostat")
do_lrm("L1", cens ~ rcs(age, 4) + rcs(tsize, 3) + pnodes + tgrade + horTh + menostat,
       gbsg2, gvars, extra_nomo = TRUE)
do_lrm("L2", arrest ~ rcs(age, 3) + fin + race + wexp + mar + paro + prio,
       rossi, c("age", "fin", "race", "wexp", "mar", "paro", "prio"))
do_lrm("L3", cens ~ rcs(age, 4) * horTh + tgrade + pnodes, gbsg2,
       c("age", "horTh", "tgrade", "pnodes"))
do_lrm("L4_pen2", cens ~ rcs(age, 4) + tgrade + pnodes + horTh, gbsg2,
       c("age", "tgrade", "pnodes", "horTh"), penalty = 2)
do_lrm("L4_pen10", cens ~ rcs(age, 4) + tgrade + pnodes + horTh, gbsg2,
       c("age", "tgrade", "pnodes", "horTh"), penalty = 10)

# ---------------------------------------------------------------- cph models
do_cph <- function(name, formula, data, vars, times) {
  dd <- datadist(data); options(datadist = dd)
  assign("dd", dd, envir = .GlobalEnv)
  fit <- cph(formula, data = data, x = TRUE, y = TRUE, surv = TRUE)
  out <- common(fit, name, paste(deparse(formula), collapse = " "), data, dd, vars)
  out$loglik <- unname(fit$loglik)
  out$loglik_note <- "log partial likelihood (Efron): [1] beta=0, [2] final"
  out$score <- unname(fit$score)
  out$iter <- fit$iter
  out$means <- named_list(fit$means)
  out$center <- unname(fit$center)
  out$center_note <- paste("fit$center = sum(fit$means * coef); predict(fit) and",
                           "fit$linear.predictors are X beta - center")
  out$method <- fit$method
  out$n_event <- sum(fit$y[, 2])
  out$time_inc <- fit$time.inc
  out$maxtime <- fit$maxtime
  # baseline survival stored by surv=TRUE (at the covariate means, i.e. lp=0)
  out$baseline_stored <- list(time = unname(fit$time), surv = unname(fit$surv),
                              std_err = unname(fit$std.err))
  sf <- survfit(fit)   # survfit.cph at the means, censored times included
  out$survfit_at_means <- list(time = sf$time, surv = sf$surv,
                               cumhaz = sf$cumhaz, std_err = sf$std.err,
                               lower = sf$lower, upper = sf$upper,
                               n_risk = sf$n.risk, n_event = sf$n.event,
                               n_censor = sf$n.censor,
                               conf_type = sf$conf.type)
  bh <- basehaz(fit, centered = FALSE)
  out$basehaz_uncentered <- list(time = bh$time, hazard = bh$hazard)
  bhc <- basehaz(fit, centered = TRUE)
  out$basehaz_centered <- list(time = bhc$time, hazard = bhc$hazard)
  first <- data[1:10, ]
  se <- survest(fit, newdata = first, times = times)
  out$first10 <- list(
    lp = unname(predict(fit, newdata = first)),
    X = mat(design_x(fit, first)),
    times = times,
    survest = list(time = unname(se$time), surv = mat(se$surv),
                   std_err = mat(se$std.err), lower = mat(se$lower),
                   upper = mat(se$upper),
                   note = paste("rows = 10 patients, columns = times;",
                                "std_err is the s.e. of log S(t) (cumulative",
                                "hazard); limits are conf.type='log' 95%")),
    Survival_fun = mat(sapply(times, function(t)
      Survival(fit)(times = t, lp = predict(fit, newdata = first))))
  )
  # cph's default convergence (eps=1e-4 on the relative change of the log
  # partial likelihood) stops early; the fully converged fit is recorded too.
  fitc <- cph(formula, data = data, x = TRUE, y = TRUE, eps = 1e-10, tol = 1e-13,
              iter.max = 100)
  out$converged <- list(
    call = "cph(formula, data, x=TRUE, y=TRUE, eps=1e-10, tol=1e-13, iter.max=100)",
    iter = fitc$iter,
    coefficients = list(names = names(coef(fitc)), values = unname(coef(fitc))),
    var = mat(vcov(fitc)), loglik = unname(fitc$loglik),
    stats = named_list(fitc$stats), center = unname(fitc$center),
    max_abs_coef_diff_vs_default = max(abs(coef(fitc) - coef(fit))))
  surv <- Survival(fit)
  f1 <- eval(bquote(function(x) surv(.(times[1]), x)))
  f2 <- eval(bquote(function(x) surv(.(times[2]), x)))
  labs <- paste0("S(", times, ")")
  nom <- nomogram(fit, fun = list(f1, f2), funlabel = labs)
  out$nomogram <- nomogram_info(nom)
  out$nomogram$call <- sprintf(paste0(
    "surv <- Survival(fit); nomogram(fit, fun=list(function(x) surv(%s, x), ",
    "function(x) surv(%s, x)), funlabel=c(\"%s\",\"%s\"))"),
    times[1], times[2], labs[1], labs[2])
  out$nomogram$points_first10 <- points_per_patient(fit, nom, first)
  out$nomogram$print <- capture.output(print(nom))
  write_model(out, name)
  invisible(fit)
}

do_cph("C1", Surv(time, cens) ~ rcs(age, 4) + tgrade + rcs(pnodes, 3) + horTh + tsize,
       gbsg2, c("age", "tgrade", "pnodes", "horTh", "tsize"), c(1095, 1825))
do_cph("C2", Surv(week, arrest) ~ rcs(age, 3) + fin + prio + wexp + mar,
       rossi, c("age", "fin", "prio", "wexp", "mar"), c(26, 52))

# ---------------------------------------------------------------- pretty()
# R's pretty() chooses every axis tick in nomogram(); these cases pin a Python port.
set.seed(20261123)
cases <- list()
ranges <- rbind(c(1, 51), c(21, 80), c(3, 120), c(17, 44), c(0, 18), c(0, 1),
                c(-3.2, 5.1), c(0.047, 0.993), c(0, 163.4), c(-2.7, 2.3),
                c(0.3, 0.31), c(-1e-3, 2e-3), c(5, 5), c(0, 0), c(-17, -3),
                c(0.0012, 0.0789), c(1e5, 3.3e5), c(0.9, 1), c(-0.5, 0.5),
                c(0.0234, 0.9876))
for (k in 1:30) {
  a <- signif(runif(1, -100, 100), 4); b <- a + signif(10^runif(1, -3, 3), 4)
  ranges <- rbind(ranges, c(a, b))
}
for (i in seq_len(nrow(ranges))) for (n in c(5, 10)) {
  cases[[length(cases) + 1]] <- list(lo = ranges[i, 1], hi = ranges[i, 2], n = n,
                                     result = pretty(ranges[i, ], n = n))
}
writeLines(toJSON(list(note = paste("pretty(c(lo, hi), n=n) with R defaults",
                                    "min.n = n %/% 3, shrink.sml = 0.75,",
                                    "high.u.bias = 1.5, u5.bias = 2.75"),
                       versions = versions, cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(outdir, "pretty.json"))

writeLines(capture.output(sessionInfo()), file.path(outdir, "session_info.txt"))
cat("done\n")
