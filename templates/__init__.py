"""derivgen's built-in Jinja templates, installed as the package ``derivgen.templates`` (see pyproject.toml)."""
