"""Small text helpers shared by the report stages."""


def format_index(name, index):
    """``x[1, 2]`` (``x`` for a 0-d input)."""
    if len(index) == 0:
        return name
    return f"{name}[{', '.join(str(int(i)) for i in index)}]"


def fmt(value):
    """A number in 6 significant digits; -0.0 shows as 0."""
    return f"{value + 0.0:.6g}"
