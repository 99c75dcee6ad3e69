-- Validity periods, as temporary macros in each build connection (every file of
-- sql/macros/ runs before the models).

-- The day after every date: an open-ended validity.
create or replace temp macro open_end(d) as coalesce(d, date '9999-12-31');

-- The version of a cooperative (core.dim_cooperative) valid in a report year, the one its
-- facts of that year point to. The current version has no end year.
create or replace temp macro valid_in_year(report_year, valid_from_year, valid_to_year) as
report_year between valid_from_year and coalesce(valid_to_year, 9999);
