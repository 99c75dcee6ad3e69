-- Validity periods, as temporary macros in each build connection (every file of
-- sql/macros/ runs before the models).

-- The day after every date: an open-ended validity.
create or replace temp macro open_end(d) as coalesce(d, date '9999-12-31');

-- The version of a cooperative (core.dim_cooperative) valid in a report year, the one its
-- facts of that year point to. The current version has no end year.
create or replace temp macro valid_in_year(report_year, valid_from_year, valid_to_year) as
report_year between valid_from_year and coalesce(valid_to_year, 9999);

-- Whether an OCOP certification is valid at some time in a year: decided by its end, not
-- expired before its start (a report made in January may list a certificate decided after
-- the year). The one place that is judged (intermediate.ocop_cooperative_year,
-- marts.cooperative_scorecard).
create or replace temp macro ocop_valid_in_year(valid_until, decision_date, year) as
coalesce(valid_until >= make_date(year, 1, 1) and decision_date <= make_date(year, 12, 31), false);
