"""The two-host lab's fixtures (tests/lab/conftest.py) for the collection's lab tests.

Run tests/ansible and tests/lab in separate pytest sessions: each conftest would build its own
session lab, and the second would wait forever on the first one's lab lock.
"""

from tests.lab.conftest import lab, lab_session  # noqa: F401 - fixtures, found by pytest by name
