-- A stable surrogate key, as a temporary macro in each build connection: the same natural
-- key gives the same key in every rebuild.
create or replace temp macro surrogate_key(natural_key) as
(md5_number_lower(natural_key) >> 1)::bigint;
