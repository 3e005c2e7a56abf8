"""What a published set of the template repo carries besides its backend files."""

# What workers need of the template repo besides the backend files, listed by hand: its settings,
# the trainers its models use (and their packages' __init__), the extract SQL, the seed file.
TEMPLATE_PROJECT = {
    ".airflowignore",
    "project/modelyard.yaml",
    "project/trainers/sklearn/__init__.py",
    "project/trainers/sklearn/sklearn_linear.py",
    "project/trainers/neural/__init__.py",
    "project/trainers/neural/mlp.py",
    "project/extracts/training_data.sql",
    "project/extracts/scoring_data.sql",
    "project/extracts/scoring_labels.sql",
    "project/data/sample_data.csv",
    "project/data/new_rows.csv",
}
