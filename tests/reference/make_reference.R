# Test vectors for the analysis, made with R's survey package (not with the project's code).
#
#   cd tests/reference && Rscript make_reference.R
#
# The input data are drawn here, in R, with their own seed: four units of unequal size and
# mode mix (U4 has no door interviews), interviewers as clusters (the same interviewer code
# in several units: nested in unit), web rows without interviewer (each its own PSU), three
# raking margins, an item nobody in U3 could answer (all 9), a rate of 1 and a rate of 0.
# Writes responses.csv, population.csv and the r_*.csv vectors described in README.md.
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")
set.seed(730113)

units <- c(U1 = 260, U2 = 140, U3 = 380, U4 = 90)
mix <- list(U1 = c(.6, .3, .1), U2 = c(.2, .6, .2), U3 = c(.3, .2, .5), U4 = c(.5, .5, 0))
ages <- c("18-34", "35-49", "50-64", "65+"); edus <- c("E1", "E2", "E3")
items <- c("air", "noise", "rural", "sea", "overall")
item_w <- c(air = .3, noise = .2, rural = .2, sea = .2, overall = .1)
rows <- list()
for (u in names(units)) {
  n <- units[[u]]
  mode <- sample(c("phone", "web", "door"), n, TRUE, mix[[u]])
  young <- if (u == "U4") .06 else .15
  sex <- sample(c("M", "F"), n, TRUE, if (u == "U4") c(.3, .7) else c(.42, .58))
  age <- sample(ages, n, TRUE, c(young, .25, .3, 1 - young - .55))
  edu <- sample(edus, n, TRUE, c(.5, .3, .2))
  k <- sample(3:6, 1)
  interviewer <- ifelse(mode == "web", "", paste0("I", sample(1:k, n, TRUE), substr(mode, 1, 1)))
  effect <- setNames(rnorm(20, 0, .45), paste0("I", rep(1:10, 2), rep(c("p", "d"), each = 10)))
  base <- rnorm(n, .25, .5) + .3 * (age == "65+") + ifelse(mode == "web", 0, effect[interviewer])
  d <- data.frame(response_id = sprintf("%s-%04d", u, sample(n) - 1), unit = u, mode = mode,
                  interviewer = interviewer, sex = sex, age_group = age, education = edu)
  for (j in seq_along(items)) {
    code <- pmin(5, pmax(1, round(3.3 + base + .12 * j + rnorm(n, 0, .9))))
    code[runif(n) < .07] <- 9
    code[runif(n) < .01] <- NA
    d[[items[j]]] <- code
  }
  if (u == "U3") d$rural <- 9                                   # no valid answer in U3
  if (u == "U4") d$sea <- ifelse(d$sea == 9, 9, sample(4:5, n, TRUE))  # rate 1 in U4
  if (u == "U2") d$noise[d$mode == "door"] <- ifelse(is.na(d$noise[d$mode == "door"]), NA,
                                                    sample(c(1:3, 9), sum(d$mode == "door"), TRUE))  # rate 0
  rows[[u]] <- d
}
d <- do.call(rbind, rows)
d <- d[sample(nrow(d)), ]                                       # rows in no particular order
pop <- NULL
for (u in names(units)) {
  total <- round(runif(1, 2e5, 9e5))
  for (m in list(list("sex", c("M", "F"), c(.51, .49)), list("age_group", ages, c(.3, .28, .24, .18)),
                 list("education", edus, c(.35, .4, .25))))
    pop <- rbind(pop, data.frame(unit = u, variable = m[[1]], category = m[[2]], population = total * m[[3]]))
}
write.csv(d, "responses.csv", row.names = FALSE, na = "")
write.csv(pop, "population.csv", row.names = FALSE)

d <- read.csv("responses.csv", stringsAsFactors = FALSE, colClasses = c(interviewer = "character"))
d$interviewer[is.na(d$interviewer)] <- ""
d$psu <- ifelse(d$interviewer == "", paste0("own:", d$response_id), d$interviewer)
vars <- c("sex", "age_group", "education")
margins <- list(); pops <- list()
for (v in vars) {
  p <- pop[pop$variable == v, c("unit", "category", "population")]; names(p) <- c("unit", v, "Freq")
  margins[[v]] <- as.formula(paste("~unit +", v)); pops[[v]] <- p
}
ctl <- list(epsilon = 1e-12, maxit = 1000)
srs <- rake(svydesign(ids = ~1, strata = ~unit, weights = ~1, data = d), margins, pops, control = ctl)
clu <- rake(svydesign(ids = ~psu, strata = ~unit, nest = TRUE, weights = ~1, data = d), margins, pops, control = ctl)
write.csv(data.frame(response_id = d$response_id, weight = weights(srs)), "r_weights_3margins.csv", row.names = FALSE)
d$w <- weights(srs)
fixed <- list(srs = svydesign(ids = ~1, strata = ~unit, weights = ~w, data = d),
              cluster = svydesign(ids = ~psu, strata = ~unit, nest = TRUE, weights = ~w, data = d))
designs <- list(srs = srs, cluster = clu)
N <- nrow(d)

domains <- list()
for (u in c(sort(unique(d$unit)), "ALL")) {
  domains[[length(domains) + 1]] <- list(unit = u, group = "", in_d = if (u == "ALL") rep(TRUE, N) else d$unit == u)
  for (g in sort(unique(d$mode))) {
    in_d <- d$mode == g & (u == "ALL" | d$unit == u)
    if (any(in_d)) domains[[length(domains) + 1]] <- list(unit = u, group = g, in_d = in_d)
  }
}

one <- function(des, fix, y, v, in_d) {
  des <- update(des, y_ = y, ok_ = v & in_d)
  fix <- update(fix, y_ = y, ok_ = v & in_d)
  if (!any(v & in_d)) return(NULL)
  s <- subset(des, ok_); sf <- subset(fix, ok_)
  m <- svymean(~y_, s, deff = "replace")
  r <- coef(m)[[1]]; vr <- vcov(m)[1, 1]; df <- degf(s)
  lg <- confint(svyciprop(~y_, s, method = "logit"))
  bt <- confint(svyciprop(~y_, s, method = "beta"))
  if (anyNA(lg)) lg <- c(NA, NA)  # svyglm inside svyciprop failed (seen once: 0 and NA)
  if (abs(r) < 1e-12) r <- 0
  if (abs(1 - r) < 1e-12) r <- 1  # R's rate 1 − 1e-16 and SE 1e-18 are rounding noise
  if (vr < 1e-24) vr <- 0
  if (r == 0 || r == 1) {  # R's n.eff is 0/0 here; Korn-Graubard: n.eff = valid rows
    ne <- sum(v & in_d) * (qt(.025, N - 1) / qt(.025, df))^2
    bt <- c(if (r > 0) qbeta(.025, ne * r, ne * (1 - r) + 1) else 0,
            if (r < 1) qbeta(.975, ne * r + 1, ne * (1 - r)) else 1)
  }
  data.frame(rate = r, rate_se = sqrt(vr), rate_se_fixed_weights = SE(svymean(~y_, sf))[[1]],
             rate_low = lg[1], rate_high = lg[2], rate_low_kg = bt[1], rate_high_kg = bt[2],
             deff = if (vr > 0) deff(m)[[1]] else NA, df = df, n_valid = sum(v & in_d))
}

composite <- function(des, in_d) {
  vals <- list(); expr <- character()
  for (it in items) {
    v <- d[[it]] %in% 1:5; y <- d[[it]] %in% 4:5
    vals[[paste0("t_", it)]] <- as.numeric(y & v & in_d); vals[[paste0("n_", it)]] <- as.numeric(v & in_d)
    expr <- c(expr, sprintf("%g * t_%s / n_%s", item_w[[it]], it, it))
  }
  des2 <- des; des2$variables <- cbind(des$variables, as.data.frame(vals))
  tot <- svytotal(as.formula(paste("~", paste(names(vals), collapse = "+"))), des2)
  if (any(coef(tot)[paste0("n_", items)] == 0)) return(c(NA, NA))
  ct <- svycontrast(tot, parse(text = paste(expr, collapse = " + "))[[1]])
  c(coef(ct)[[1]], SE(ct)[[1]])
}

out <- NULL
for (dn in names(designs)) for (dom in domains) {
  for (it in items) {
    x <- d[[it]]
    v <- x %in% 1:5
    e <- one(designs[[dn]], fixed[[dn]], as.numeric(x %in% 4:5), v, dom$in_d)
    ix <- if (is.null(e)) NULL else {
      s <- subset(update(designs[[dn]], s_ = ifelse(v, 25 * (x - 1), 0), ok_ = v & dom$in_d), ok_)
      m <- svymean(~s_, s); data.frame(index = coef(m)[[1]], index_se = SE(m)[[1]])
    }
    if (is.null(e)) e <- data.frame(rate = NA, rate_se = NA, rate_se_fixed_weights = NA, rate_low = NA,
                                    rate_high = NA, rate_low_kg = NA, rate_high_kg = NA, deff = NA, df = NA,
                                    n_valid = 0)
    if (is.null(ix)) ix <- data.frame(index = NA, index_se = NA)
    out <- rbind(out, cbind(data.frame(design = dn, unit = dom$unit, group = dom$group, item = it), e, ix))
  }
  if (dom$unit != "ALL") {
    cp <- composite(designs[[dn]], dom$in_d)
    out <- rbind(out, data.frame(design = dn, unit = dom$unit, group = dom$group, item = "composite",
                                 rate = cp[1], rate_se = cp[2], rate_se_fixed_weights = NA, rate_low = NA,
                                 rate_high = NA, rate_low_kg = NA, rate_high_kg = NA, deff = NA, df = NA,
                                 n_valid = NA, index = NA, index_se = NA))
  }
}
write.csv(out, "r_domains.csv", row.names = FALSE, na = "")

# phone − web within U1 and in the whole city (svycontrast of two domain ratios)
ct <- NULL
for (dn in names(designs)) for (u in c("U1", "ALL")) {
  x <- d$overall; v <- x %in% 1:5; y <- x %in% 4:5
  inu <- if (u == "ALL") TRUE else d$unit == u
  des2 <- update(designs[[dn]], ya = as.numeric(y & v & inu & d$mode == "phone"), va = as.numeric(v & inu & d$mode == "phone"),
                 yb = as.numeric(y & v & inu & d$mode == "web"), vb = as.numeric(v & inu & d$mode == "web"))
  c1 <- svycontrast(svytotal(~ya + va + yb + vb, des2), quote(ya / va - yb / vb))
  ct <- rbind(ct, data.frame(design = dn, unit = u, item = "overall", a = "phone", b = "web",
                             difference = coef(c1)[[1]], se = SE(c1)[[1]]))
}
write.csv(ct, "r_contrasts.csv", row.names = FALSE)

# the 80 % line: p_below = F_t,df((logit(θ) − logit(r)) / (SE / (r(1 − r)))) for `overall` per unit
th <- NULL
for (dn in names(designs)) for (u in sort(unique(d$unit))) {
  e <- out[out$design == dn & out$unit == u & out$group == "" & out$item == "overall", ]
  z <- (qlogis(.8) - qlogis(e$rate)) / (e$rate_se / (e$rate * (1 - e$rate)))
  th <- rbind(th, data.frame(design = dn, unit = u, item = "overall", threshold = .8, rate = e$rate,
                             rate_se = e$rate_se, df = e$df, p_below = pt(z, e$df)))
}
write.csv(th, "r_threshold.csv", row.names = FALSE)

# bounded weights: logit calibration per unit from w0 = N_h / n_h, g = w / w0 within [0.3, 3]
bw <- NULL; bs <- NULL
for (u in sort(unique(d$unit))) {
  du <- d[d$unit == u, ]
  pu <- pop[pop$unit == u, ]
  total <- sum(pu$population[pu$variable == "sex"])
  du$w0 <- total / nrow(du)
  mm <- colnames(model.matrix(~sex + age_group + education, du))
  target <- sapply(mm, function(cn) {
    if (cn == "(Intercept)") return(total)
    for (v in vars) if (startsWith(cn, v)) return(pu$population[pu$variable == v & pu$category == substring(cn, nchar(v) + 1)])
  })
  des <- svydesign(ids = ~1, weights = ~w0, data = du)
  converged <- TRUE
  cal <- tryCatch(withCallingHandlers(
    calibrate(des, ~sex + age_group + education, population = target, calfun = "logit", bounds = c(.3, 3),
              maxit = 1000, epsilon = 1e-12),
    warning = function(w) { converged <<- FALSE; invokeRestart("muffleWarning") }),
    error = function(e) { converged <<- FALSE; NULL })
  g <- if (converged) weights(cal) / du$w0 else NA
  if (converged) bw <- rbind(bw, data.frame(response_id = du$response_id, weight = weights(cal)))
  # the unbounded rake needs a wider range: the bounds bind
  bs <- rbind(bs, data.frame(unit = u, lower = .3, upper = 3, converged = converged, g_min = min(g), g_max = max(g),
                             unbounded_g_min = min(weights(srs)[d$unit == u]) / du$w0[1],
                             unbounded_g_max = max(weights(srs)[d$unit == u]) / du$w0[1]))
}
write.csv(bw, "r_weights_bounded.csv", row.names = FALSE)
write.csv(bs, "r_bounds_summary.csv", row.names = FALSE)

# mode differences per unit x item and the composite, every pair of modes present in the unit
# (mode_a < mode_b alphabetically) and in the whole city (ALL): the joint linearisation of the
# two domain ratios, svycontrast(svytotal(...), quote(t_a / n_a - t_b / n_b)). (svyby(covmat = TRUE)
# stops with an error on a raked design in survey 4.1; the totals give the same joint variance.)
md <- NULL
modes <- sort(unique(d$mode))
for (dn in names(designs)) for (u in c(sort(unique(d$unit)), "ALL")) {
  inu <- if (u == "ALL") rep(TRUE, N) else d$unit == u
  here <- modes[sapply(modes, function(g) any(inu & d$mode == g))]
  for (i in 1:(length(here) - 1)) for (j in (i + 1):length(here)) {
    vals <- list()
    for (it in items) for (g in c("a", "b")) {
      in_g <- inu & d$mode == here[if (g == "a") i else j]
      vv <- d[[it]] %in% 1:5; yy <- d[[it]] %in% 4:5
      vals[[sprintf("t_%s_%s", it, g)]] <- as.numeric(yy & vv & in_g)
      vals[[sprintf("n_%s_%s", it, g)]] <- as.numeric(vv & in_g)
    }
    des2 <- designs[[dn]]; des2$variables <- cbind(des2$variables, as.data.frame(vals))
    tot <- svytotal(as.formula(paste("~", paste(names(vals), collapse = "+"))), des2)
    ok <- sapply(items, function(it) coef(tot)[[sprintf("n_%s_a", it)]] > 0 && coef(tot)[[sprintf("n_%s_b", it)]] > 0)
    ex <- lapply(items[ok], function(it) parse(text = sprintf("t_%s_a / n_%s_a - t_%s_b / n_%s_b", it, it, it, it))[[1]])
    names(ex) <- items[ok]
    if (all(ok))
      ex$composite <- parse(text = paste(sprintf("%g * (t_%s_a / n_%s_a - t_%s_b / n_%s_b)", item_w[items], items,
                                                 items, items, items), collapse = " + "))[[1]]
    ct <- svycontrast(tot, ex)
    md <- rbind(md, data.frame(design = dn, unit = u, item = names(ex), mode_a = here[i], mode_b = here[j],
                               difference = unname(coef(ct)), se = unname(SE(ct))))
  }
}
write.csv(md, "r_mode_differences.csv", row.names = FALSE)

# the mode mix: each mode's share of a unit's respondents (unweighted counts)
mix_out <- as.data.frame(prop.table(table(d$unit, d$mode), 1))
names(mix_out) <- c("unit", "mode", "share")
write.csv(mix_out[order(mix_out$unit, mix_out$mode), ], "r_mode_mix.csv", row.names = FALSE)

# no population margins: weights 1, strata = units, no raking (a district score "unweighted")
uw <- svydesign(ids = ~1, strata = ~unit, weights = ~rep(1, N), data = d)
un <- NULL
for (u in sort(unique(d$unit))) {
  for (it in items) {
    x <- d[[it]]; v <- x %in% 1:5
    if (!any(v & d$unit == u)) next
    s <- subset(update(uw, y_ = as.numeric(x %in% 4:5), ok_ = v & d$unit == u), ok_)
    m <- svymean(~y_, s)
    un <- rbind(un, data.frame(unit = u, item = it, rate = coef(m)[[1]], rate_se = SE(m)[[1]], df = degf(s)))
  }
  cp <- composite(uw, d$unit == u)
  if (!is.na(cp[1])) un <- rbind(un, data.frame(unit = u, item = "composite", rate = cp[1], rate_se = cp[2], df = NA))
}
write.csv(un, "r_unweighted.csv", row.names = FALSE)
