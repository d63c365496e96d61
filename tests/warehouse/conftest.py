from tests.support.warehouse import warehouse  # noqa: F401  (fixture)
