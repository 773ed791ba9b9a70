"""The one-way bench's arithmetic (tests/load/bench_latency.py): latencies
count from the scheduled time, a missing frame is lost rather than fast, the
maximum includes the drain, and the targets' verdicts follow the figures."""

from tests.load.bench_latency import LatencyConfig, LatencyResult, Phase
from tests.load.loadgen import PhaseReport


def report(posts, arrivals, cpu=0.1, wall=2.0, send_seconds=1.0) -> PhaseReport:
    return PhaseReport(posts=posts, arrivals=arrivals, sent=len(posts), send_seconds=send_seconds,
                       cpu_seconds=cpu, wall_seconds=wall)


def test_latencies_count_from_the_scheduled_time_and_lost_frames_are_not_latencies():
    # (message id, recipient, scheduled at, 202 at); message 3's frame never came
    posts = [(1, 7, 10.000, 10.004), (2, 8, 10.100, 10.130), (3, 7, 10.200, 10.205)]
    arrivals = {(7, 1): 10.009, (8, 2): 10.160}
    phase = Phase("50%", 1, offered=10.0, reports=[report(posts, arrivals)])

    assert [round(x, 3) for x in phase.http_ms()] == [4.0, 5.0, 30.0]
    assert [round(x, 3) for x in phase.frame_ms()] == [9.0, 60.0]
    assert phase.lost == 1
    # first 202 (10.004) → last frame (10.160): 2 frames in 0.156 s
    assert round(phase.delivered_per_second, 1) == round(2 / 0.156, 1)
    assert phase.generator_cpu == [0.05]


def test_reports_of_two_generators_merge():
    a = report([(1, 7, 0.0, 0.01)], {(7, 1): 0.02}, cpu=0.2, wall=4.0)
    b = report([(2, 8, 0.5, 0.51)], {(8, 2): 0.53}, cpu=0.4, wall=4.0)
    phase = Phase("max", 2, reports=[a, b])

    assert len(phase.posts) == 2 and phase.lost == 0
    assert phase.generator_cpu == [0.05, 0.1]
    assert round(phase.generator_ms_per_message, 1) == 300.0


def test_targets_at_half_the_maximum_are_judged_on_the_50_percent_level():
    fast = [(i, 1, float(i), i + 0.005) for i in range(100)]
    fast_frames = {(1, i): i + 0.008 for i in range(100)}
    result = LatencyResult(LatencyConfig(), levels=[Phase("50%", 1, offered=50, reports=[report(fast, fast_frames)])])
    assert [v[3] for v in result.verdicts()] == ["met", "met", "met"]

    slow = [(i, 1, float(i), i + 0.025) for i in range(100)]
    slow_frames = {(1, i): i + 0.030 for i in range(100)}
    result.levels = [Phase("50%", 1, offered=50, reports=[report(slow, slow_frames)])]
    verdicts = {name: verdict for name, _limit, _value, verdict in result.verdicts()}
    assert verdicts == {"POST→202 p99": "NOT MET", "POST→frame p50": "NOT MET", "POST→frame p99": "met"}

    result.levels = [Phase("25%", 1, offered=25, reports=[report(fast, fast_frames)])]
    assert result.verdicts() == [] and result.target_lines() == ["  targets at 50 %: not measured"]
