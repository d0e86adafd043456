from motrans.machine import cpu_info, describe, summary

ZEN4 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC 9R14
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512_vnni avx512_bf16 vaes
"""


def test_cpu_info_names_the_model_and_the_kernel_flags():
    model, flags = cpu_info(ZEN4)
    assert model == "AMD EPYC 9R14 (family 25 model 17)"
    assert flags == ["avx2", "avx512f", "avx512_vnni", "avx512_bf16"]  # avx512bw and vaes pick no kernel here
    assert cpu_info("")[1] == []


def test_summary_carries_the_settings_that_imitate_another_cpu(monkeypatch):
    monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
    machine = describe()
    assert machine["settings"]["MKL_CBWR"] == "COMPATIBLE"
    assert "MKL_CBWR=COMPATIBLE" in summary(machine)
