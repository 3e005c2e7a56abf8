-- Rendered with jinja before it runs: the `limit` below comes from `kwargs` in extract_inputs.yaml.
-- `sample_data` is the warehouse table loaded from data/sample_data.csv.
SELECT date, x_0, x_1, x_2, y
FROM sample_data
ORDER BY date, x_0
LIMIT {{ limit }}
