-- Helpers for the load models, created as temporary macros in the build connection.
-- A stable surrogate key: the same natural key gives the same key in every rebuild.
create or replace temp macro surrogate_key(natural_key) as
    (md5_number_lower(natural_key) >> 1)::bigint;
-- The day after every date: an open-ended validity.
create or replace temp macro open_end(d) as coalesce(d, date '9999-12-31');
