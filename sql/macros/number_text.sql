-- A decimal as a clerk writes it, for a finding's value: `5000`, `1250.5`, not the
-- column's scale (`5000.000000`); any magnitude (printf, no decimal type to overflow).
create or replace temp macro number_text(n) as
rtrim(rtrim(printf('%.6f', n::double), '0'), '.');
