import inspect
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from motrans.config import AugmentConfig, DataConfig, JitterConfig
from motrans.data import frames as frames_module
from motrans.data.frames import FramesDataset, Repeated, identity
from motrans.errors import ConfigError, InputError

from ..conftest import DATA, make_video

SIZE = (64, 64)
PLAIN = AugmentConfig(horizontal_flip=False, time_flip=False, jitter=JitterConfig(0.0, 0.0, 0.0, 0.0))


def picture(clip: int, index: int, size=SIZE) -> np.ndarray:
    """Red encodes the frame index, green the clip: both readable back from any pixel."""
    frame = np.zeros((*size, 3), np.uint8)
    frame[..., 0], frame[..., 1], frame[..., 2] = 40 * index, 20 * clip, 128
    return frame


def write_clip(folder, clip=0, count=5, size=SIZE):
    folder.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(picture(clip, i, size)).save(folder / f"{i:05d}.png")
    return folder


@pytest.fixture
def root(tmp_path):
    """The authors' layout: three training clips of two identities, one test clip, 5 frames of 64² each."""
    for number, name in enumerate(["a#1.mp4", "a#2.mp4", "b#1.mp4"]):
        write_clip(tmp_path / "train" / name, number)
    write_clip(tmp_path / "test" / "c#1.mp4", 3)
    return tmp_path


def dataset(root, split="train", seed=0, **changes):
    config = DataConfig(root=str(root), **{"id_sampling": False, "augment": PLAIN, **changes})
    return FramesDataset(config, SIZE, split, seed)


def index_of(image: torch.Tensor) -> int:
    return round(float(image[0, 0, 0]) * 255 / 40)


def test_frame_folders_give_sorted_pairs_in_range(root):
    data = dataset(root)
    assert len(data) == 3 and data.skipped == []
    for i in range(12):
        item = data[i % 3]
        assert item["source"].shape == item["driving"].shape == (3, 64, 64)
        assert item["source"].dtype == torch.float32 and 0 <= item["source"].min() and item["driving"].max() <= 1
        assert index_of(item["source"]) <= index_of(item["driving"])
        assert item["name"] == ["a#1.mp4", "a#2.mp4", "b#1.mp4"][i % 3]


def test_id_sampling_has_one_item_per_identity(root):
    data = dataset(root, id_sampling=True)
    assert len(data) == 2 and identity("id10001#abc#0001.mp4") == "id10001"
    names = set()
    for epoch in range(12):
        data.set_epoch(epoch)
        names.add(data[0]["name"])
        assert data[1]["name"] == "b#1.mp4"
    assert names == {"a#1.mp4", "a#2.mp4"}
    assert len(dataset(root, "test", id_sampling=True)) == 1  # as the authors: test has one item per clip


def test_video_files_and_a_real_gif_read_as_clips(tmp_path):
    train = tmp_path / "train"
    train.mkdir()
    make_video(train / "ramp.mp4", [np.full((48, 80, 3), 60 * i, np.uint8) for i in range(5)])
    shutil.copy(DATA / "animals" / "mgif_aa_cat_driving.gif", train / "cat.gif")
    data = dataset(tmp_path)
    assert [(e.name, e.kind, e.count) for e in data.entries] == [("cat.gif", "video", 15), ("ramp.mp4", "video", 5)]
    ramp = data.entries[1].read([1, 3, 3])
    assert [abs(int(f.mean()) - v) < 8 for f, v in zip(ramp, (60, 180, 180))] == [True] * 3
    item = data[0]
    assert item["name"] == "cat.gif" and item["source"].shape == (3, 64, 64)  # 256² brought to 64² by fit
    assert len(list(data.entries[0].frames())) == 15


def remux(source, target):
    """Copies the video packets into another container (an mkv does not store its frame count)."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)


def test_a_container_without_a_frame_count_is_counted_once(tmp_path):
    (tmp_path / "train").mkdir()
    make_video(tmp_path / "ramp.mp4", [np.full((48, 80, 3), 60 * i, np.uint8) for i in range(4)])
    remux(tmp_path / "ramp.mp4", tmp_path / "train" / "ramp.mkv")
    assert frames_module.probe(tmp_path / "train" / "ramp.mkv").frames is None
    (entry,) = dataset(tmp_path).entries
    assert entry.count == 4 and abs(int(entry.read([3])[0].mean()) - 180) < 8
    truncated = frames_module.VideoEntry("ramp.mkv", entry.path, "video", 9)
    with pytest.raises(InputError, match="ramp.mkv: ends after 4 frames, 9 were counted"):
        truncated.read([2, 7])


def test_image_strips_are_square_frames_side_by_side(tmp_path):
    train = tmp_path / "train"
    train.mkdir()
    Image.fromarray(np.concatenate([picture(0, i) for i in range(5)], axis=1)).save(train / "strip.png")
    Image.fromarray(picture(0, 0)).save(train / "still.png")
    with pytest.warns(UserWarning, match="skipped 1 of 2"):
        data = dataset(tmp_path)
    (entry,) = data.entries
    assert (entry.kind, entry.count) == ("strip", 5)
    assert [int(f[0, 0, 0]) for f in entry.read([0, 2, 4])] == [0, 80, 160]
    assert data.skipped[0][0] == "still.png" and "1 frame(s)" in data.skipped[0][1]


def test_train_list_restricts_frames_and_test_list_only_picks_clips(root):
    (root / "train_list.txt").write_text("a#2.mp4/00001.png\na#2.mp4/00003.png\n\n")
    data = dataset(root, train_list=str(root / "train_list.txt"))
    assert [(e.name, e.count) for e in data.entries] == [("a#2.mp4", 2)]
    for epoch in range(8):
        data.set_epoch(epoch)
        assert {index_of(data[0]["source"]), index_of(data[0]["driving"])} <= {1, 3}
    (root / "test_list.txt").write_text("c#1.mp4/00000.png\n")
    (video,) = frames_module.test_videos(root, "test", "test_list.txt")  # relative to the root
    assert video.count == 5 and inspect.isgenerator(video.frames())
    assert [int(f[0, 0, 0]) for f in video.frames()] == [0, 40, 80, 120, 160]


def test_list_naming_missing_clips_or_frames_skips_them(root):
    (root / "list.txt").write_text("a#1.mp4/00000.png\na#1.mp4/00001.png\nzz.mp4/00000.png\nb#1.mp4/00099.png\n")
    with pytest.warns(UserWarning, match="skipped 2 of 3"):
        data = dataset(root, train_list=str(root / "list.txt"))
    assert [e.name for e in data.entries] == ["a#1.mp4"]
    assert {name for name, _ in data.skipped} == {"zz.mp4", "b#1.mp4"}
    (root / "bad.txt").write_text("no-slash-here\n")
    with pytest.raises(InputError, match="bad.txt:1"):
        dataset(root, train_list=str(root / "bad.txt"))
    with pytest.raises(InputError, match="nowhere.txt: no such list file"):
        dataset(root, train_list="nowhere.txt")


def test_repeated_multiplies_length_and_varies_the_pairs(root):
    data = dataset(root)
    repeated = Repeated(data, 4)
    assert len(repeated) == 12
    assert [repeated[i]["name"] for i in range(12)] == [data.entries[i % 3].name for i in range(12)]
    pairs = {(index_of(repeated[i]["source"]), index_of(repeated[i]["driving"])) for i in range(0, 12, 3)}
    assert len(pairs) > 1  # each repeat draws its own pair
    repeated.set_epoch(5)
    assert data.epoch == 5


def test_samples_repeat_by_seed_epoch_and_index(root):
    config = AugmentConfig(rotation=10.0)
    first, again = dataset(root, augment=config), dataset(root, augment=config)
    for i in range(3):
        a, b = first[i], again[i]
        assert torch.equal(a["source"], b["source"]) and torch.equal(a["driving"], b["driving"])
    again.set_epoch(1)
    assert any(not torch.equal(first[i]["source"], again[i]["source"]) for i in range(3))
    other = dataset(root, seed=1, augment=config)
    assert any(not torch.equal(first[i]["source"], other[i]["source"]) for i in range(3))


def test_results_do_not_depend_on_the_number_of_workers(root):
    data = Repeated(dataset(root, augment=AugmentConfig()), 2)

    def batches(workers):
        loader = torch.utils.data.DataLoader(data, batch_size=2, num_workers=workers)
        return torch.cat([batch["driving"] for batch in loader])

    assert torch.equal(batches(0), batches(2))


def test_missing_root_split_or_empty_split_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="nowhere: dataset root does not exist"):
        dataset(tmp_path / "nowhere")
    with pytest.raises(InputError, match="data.root is empty"):
        dataset("")
    with pytest.raises(InputError, match="train: no such folder"):
        dataset(tmp_path)
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "notes.txt").write_text("not a clip")
    with pytest.raises(InputError, match="train: empty"):
        dataset(tmp_path)


def test_short_clips_are_skipped_and_counted(root):
    write_clip(root / "train" / "short.mp4", count=1)
    (root / "train" / "nothing.mp4").mkdir()
    (root / "train" / "broken.mp4").write_bytes(b"\x00not a video" * 10)
    with pytest.warns(UserWarning, match="skipped 3 of 6"):
        data = dataset(root)
    assert len(data) == 3
    assert sorted(name for name, _ in data.skipped) == ["broken.mp4", "nothing.mp4", "short.mp4"]


def test_no_usable_clip_is_an_input_error(tmp_path):
    write_clip(tmp_path / "train" / "one", count=1)
    write_clip(tmp_path / "train" / "two", count=1)
    with pytest.warns(UserWarning), pytest.raises(InputError, match="no usable clip, all 2 skipped"):
        dataset(tmp_path)


def test_a_corrupt_frame_is_an_input_error_naming_it(root):
    bad = root / "train" / "a#1.mp4" / "00002.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    data = dataset(root)
    entry = data.entries[0]
    with pytest.raises(InputError, match="00002.png: not a readable image"):
        entry.read([0, 2])
    with pytest.raises(InputError, match="00002.png"):
        list(entry.frames())


def test_augmentations_must_return_the_model_size(root):
    with pytest.raises(ConfigError, match="crop"):
        dataset(root, augment=AugmentConfig(crop=(32, 32)))
    with pytest.raises(ConfigError, match="resize_ratio needs"):
        dataset(root, augment=AugmentConfig(resize_ratio=(0.9, 1.1)))
    data = dataset(root, augment=AugmentConfig(rotation=20.0, resize_ratio=(0.9, 1.1), crop=(64, 64)))
    item = data[0]
    assert item["source"].shape == (3, 64, 64)
    assert torch.allclose(item["source"] * 255, torch.round(item["source"] * 255), atol=1e-3)  # jitter via uint8


def test_test_videos_keeps_every_readable_clip(root):
    write_clip(root / "test" / "single.mp4", count=1)
    videos = frames_module.test_videos(root)
    assert [(v.name, v.count) for v in videos] == [("c#1.mp4", 5), ("single.mp4", 1)]
    with pytest.raises(InputError, match="unknown split"):
        frames_module.test_videos(root, "valid")
