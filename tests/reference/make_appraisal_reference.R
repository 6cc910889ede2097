# Reference figures for appraisal waves (one respondent rates many units), from R's survey package.
#
# Usage: Rscript make_appraisal_reference.R RESPONSES.csv UNITS.csv POPULATION.csv|none OUT_PREFIX
# Writes OUT_PREFIX_estimates.csv (one row per rated unit) and OUT_PREFIX_contrasts.csv (every pair of
# units of the same type: rate difference by svycontrast on the full design, so the covariance of
# two units rated by the same respondents is in its SE).
#
# Weighting: POPULATION with unit 全市 -> rake(~sex, ~age_group) to the city margins, one stratum;
# POPULATION with district rows only -> strata = unit, rake(~unit+sex, ~unit+age_group);
# `none` -> weights 1, one stratum, no raking.
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE, fileEncoding = "UTF-8", check.names = FALSE)
units <- read.csv(args[2], stringsAsFactors = FALSE, fileEncoding = "UTF-8")
out <- args[4]
d$one <- 1
if (args[3] == "none") {
  des <- svydesign(ids = ~1, weights = ~one, data = d)
} else {
  pop <- read.csv(args[3], stringsAsFactors = FALSE, fileEncoding = "UTF-8")
  city <- pop[pop$unit == "全市", ]
  if (nrow(city) > 0) {
    margin <- function(v) { p <- city[city$variable == v, ]; f <- data.frame(p$category, p$population); names(f) <- c(v, "Freq"); f }
    des <- svydesign(ids = ~1, weights = ~one, data = d)
    des <- rake(des, list(~sex, ~age_group), list(margin("sex"), margin("age_group")),
                control = list(maxit = 200, epsilon = 1e-12))
  } else {
    margin <- function(v) { p <- pop[pop$variable == v, ]; f <- data.frame(p$unit, p$category, p$population); names(f) <- c("unit", v, "Freq"); f }
    des <- svydesign(ids = ~1, strata = ~unit, weights = ~one, data = d)
    des <- rake(des, list(~unit + sex, ~unit + age_group), list(margin("sex"), margin("age_group")),
                control = list(maxit = 200, epsilon = 1e-12))
  }
}
rows <- list()
for (k in seq_len(nrow(units))) {
  id <- units$id[k]
  code <- d[[id]]
  aw <- d[[paste0(id, "_aware")]]
  des <- update(des, v_ = as.numeric(!is.na(code) & code %in% 1:5), y_ = as.numeric(!is.na(code) & code %in% 4:5),
                s_ = ifelse(!is.na(code) & code %in% 1:5, 25 * (code - 1), 0),
                q_ = as.numeric(!is.na(aw) & aw %in% 1:2), a_ = as.numeric(!is.na(aw) & aw == 1))
  sub <- subset(des, v_ == 1)
  m <- svymean(~y_, sub, deff = "replace")
  ci <- svyciprop(~y_, sub, method = "logit")
  ix <- svymean(~s_, sub)
  am <- svymean(~a_, subset(des, q_ == 1))
  rows[[k]] <- data.frame(unit = id, type = units$type[k], n = sum(d[["one"]][!is.na(aw) & aw %in% 1:2]),
                          n_aware = sum(!is.na(aw) & aw == 1), aware_rate = coef(am)[[1]], aware_se = SE(am)[[1]],
                          n_valid = sum(!is.na(code) & code %in% 1:5), rate = coef(m)[[1]], rate_se = SE(m)[[1]],
                          rate_low = attr(ci, "ci")[[1]], rate_high = attr(ci, "ci")[[2]],
                          index = coef(ix)[[1]], index_se = SE(ix)[[1]], deff = deff(m)[[1]], df = degf(sub))
}
write.csv(do.call(rbind, rows), paste0(out, "_estimates.csv"), row.names = FALSE, fileEncoding = "UTF-8")
crow <- list()
for (t in unique(units$type)) {
  ids <- units$id[units$type == t]
  if (length(ids) < 2) next
  for (i in 1:(length(ids) - 1)) for (j in (i + 1):length(ids)) {
    ca <- d[[ids[i]]]; cb <- d[[ids[j]]]
    des <- update(des, va = as.numeric(!is.na(ca) & ca %in% 1:5), ya = as.numeric(!is.na(ca) & ca %in% 4:5),
                  vb = as.numeric(!is.na(cb) & cb %in% 1:5), yb = as.numeric(!is.na(cb) & cb %in% 4:5))
    ct <- svycontrast(svytotal(~ya + va + yb + vb, des), quote(ya / va - yb / vb))
    crow[[length(crow) + 1]] <- data.frame(type = t, unit_a = ids[i], unit_b = ids[j], diff = coef(ct)[[1]],
                                           se = SE(ct)[[1]])
  }
}
write.csv(do.call(rbind, crow), paste0(out, "_contrasts.csv"), row.names = FALSE, fileEncoding = "UTF-8")
