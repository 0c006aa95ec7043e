"""Fixtures shared by the kernel tests."""
import pytest

import fsskernels as fk


@pytest.fixture
def restore_aes_path():
    """Restores the AES path a test switched (fsskernels._C.set_aes_path is global)."""
    before = fk._C.aes_path()
    yield
    fk._C.set_aes_path(before)
