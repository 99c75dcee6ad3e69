-- The 2030 targets of marts.phase_summary and marts.commune_phase, as a temporary macro in
-- each build connection (every file of sql/macros/ runs before the models).

-- A count grown by a rate of config/phase_targets.toml, rounded half away from zero: the
-- rate as a decimal, so that 50 members grown by 15% are 57.5, a target of 58 (in binary
-- floating point 57.4999..., which rounds to 57).
create or replace temp macro grown_count(base, rate) as
round(base * (1 + rate::decimal(18, 6)))::double;
