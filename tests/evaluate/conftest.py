import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """The tiny model runs on 64×64 frames, where a second thread only adds waiting: on a busy 2-core machine the
    spinning threads made these tests up to 10 times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
