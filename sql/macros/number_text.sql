-- A decimal as a clerk writes it, for a finding's value: `5000`, `1250,5`, not the
-- column's scale (`5000.000000`); any magnitude (printf, no decimal type to overflow). The
-- decimal mark is a comma, as the workbook contract reads numbers (rule 5: `.` groups
-- thousands, so `100.1` would read as 1001).
create or replace temp macro number_text(n) as
replace(rtrim(rtrim(printf('%.6f', n::double), '0'), '.'), '.', ',');
