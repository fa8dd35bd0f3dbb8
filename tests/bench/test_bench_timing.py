"""The benchmarks' one timer and their mask timing (the figures are never asserted)."""

import cv2

from allscope.bench.mask import benchmark_mask
from allscope.bench.timing import opencv_threads, summary, time_ms
from allscope.core.mask.lab_kmeans import lab_kmeans_mask


def test_time_ms_calls_once_to_warm_up_then_once_per_repeat():
    calls = []
    samples = time_ms(lambda: calls.append(1), 4)
    assert len(samples) == 4 and len(calls) == 5 and all(s >= 0 for s in samples)


def test_summary_gives_the_median_and_95th_percentile():
    figures = summary([1.0, 2.0, 3.0, 4.0, 100.0])
    assert figures["median_ms"] == 3.0
    assert 4.0 < figures["p95_ms"] < 100.0


def test_opencv_threads_restores_the_previous_count():
    before = cv2.getNumThreads()
    with opencv_threads(1):
        assert cv2.getNumThreads() == 1
    assert cv2.getNumThreads() == before


def test_benchmark_times_the_mask_on_a_field_of_each_size(monkeypatch):
    import allscope.bench.mask as bench

    shapes = []

    def counting_mask(field, *args, **kwargs):
        shapes.append(field.shape)
        return lab_kmeans_mask(field, *args, **kwargs)

    monkeypatch.setattr(bench, "lab_kmeans_mask", counting_mask)
    timings = benchmark_mask(sizes=((64, 48), (32, 40)), repeats=3)
    assert set(timings) == {"64x48", "32x40"}
    assert all(set(t) == {"median_ms", "p95_ms"} and t["median_ms"] > 0 for t in timings.values())
    # one untimed warm-up call and three timed calls per size, on a field of that size
    assert shapes == [(48, 64, 3)] * 4 + [(40, 32, 3)] * 4



def test_benchmark_leaves_the_opencv_thread_count_as_it_found_it():
    before = cv2.getNumThreads()
    benchmark_mask(sizes=((32, 32),), repeats=2, warm=True)
    assert cv2.getNumThreads() == before
