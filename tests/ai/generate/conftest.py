import pytest

from .tiny_models import cogvideox_folder


@pytest.fixture(scope="session")
def tiny_cogvideox(tmp_path_factory):
    return cogvideox_folder(tmp_path_factory)
