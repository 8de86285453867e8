"""The mainline KSM model against section 3 of the ABI contract (no FUSE)."""

from __future__ import annotations

import errno

import pytest
from simhost.kernel import KsmKernel, make_kernel
from simhost.sysroot import boot_state

DEFAULT_TEXT = {
    "run": "0\n",
    "pages_to_scan": "100\n",
    "sleep_millisecs": "20\n",
    "merge_across_nodes": "1\n",
    "use_zero_pages": "0\n",
    "max_page_sharing": "256\n",
    "stable_node_chains_prune_millisecs": "2000\n",
    "smart_scan": "1\n",
    "advisor_mode": "[none] scan-time\n",
    "advisor_max_cpu": "70\n",
    "advisor_min_pages_to_scan": "500\n",
    "advisor_max_pages_to_scan": "30000\n",
    "advisor_target_scan_time": "200\n",
    "pages_shared": "0\n",
    "pages_sharing": "0\n",
    "pages_unshared": "0\n",
    "full_scans": "0\n",
    "pages_volatile": "0\n",
    "stable_node_chains": "0\n",
    "stable_node_dups": "0\n",
    "general_profit": "0\n",
    "pages_scanned": "0\n",
    "ksm_zero_pages": "0\n",
    "pages_skipped": "0\n",
}
WRITABLE = set(list(DEFAULT_TEXT)[:13])
OLD_ATTRS = {
    "run",
    "pages_to_scan",
    "sleep_millisecs",
    "merge_across_nodes",
    "use_zero_pages",
    "max_page_sharing",
    "stable_node_chains_prune_millisecs",
    "pages_shared",
    "pages_sharing",
    "pages_unshared",
    "pages_volatile",
    "full_scans",
    "stable_node_chains",
    "stable_node_dups",
}


def read(kernel, attr):
    return kernel.read(attr).decode()


def write(kernel, attr, text):
    return kernel.write(attr, text.encode())


def write_errno(kernel, attr, text):
    with pytest.raises(OSError) as info:
        write(kernel, attr, text)
    return info.value.errno


@pytest.fixture
def ksm():
    return KsmKernel()


def test_attribute_sets_per_variant():
    assert set(make_kernel("ksm").attributes()) == set(DEFAULT_TEXT)
    assert set(make_kernel("ksm-nonuma").attributes()) == set(DEFAULT_TEXT) - {"merge_across_nodes"}
    assert set(make_kernel("ksm-old").attributes()) == OLD_ATTRS
    assert set(make_kernel("ksm-readonly").attributes()) == set(DEFAULT_TEXT)


def test_modes(ksm):
    assert {attr for attr in ksm.attributes() if ksm.is_writable(attr)} == WRITABLE


@pytest.mark.parametrize("attr", sorted(DEFAULT_TEXT))
def test_defaults_read_exactly(ksm, attr):
    assert read(ksm, attr) == DEFAULT_TEXT[attr]


@pytest.mark.parametrize("attr", sorted(set(DEFAULT_TEXT) - WRITABLE))
def test_statistics_are_read_only(ksm, attr):
    assert write_errno(ksm, attr, "1\n") == errno.EACCES


# -- run ---------------------------------------------------------------------------


def test_run_values(ksm):
    for text, shown in (("1\n", "1\n"), ("0", "0\n"), ("+1", "1\n")):
        write(ksm, "run", text)
        assert read(ksm, "run") == shown
    for text in ("3", "-1", "1 ", "4294967296", "x"):
        assert write_errno(ksm, "run", text) == errno.EINVAL


def test_run_2_unmerges_everything():
    kernel = KsmKernel(state=boot_state("ksm", active=True))
    assert read(kernel, "pages_shared") == "350\n"
    write(kernel, "run", "2\n")
    assert read(kernel, "run") == "2\n"
    for attr in ("pages_shared", "pages_sharing", "pages_unshared", "pages_volatile", "general_profit"):
        assert read(kernel, attr) == "0\n"
    assert read(kernel, "full_scans") == "12\n"


def test_run_2_failure_reads_0(ksm):
    ksm.merge_state({"run": 1, "pages_shared": 5, "unmerge_error": "ENOMEM"})
    assert write_errno(ksm, "run", "2\n") == errno.ENOMEM
    assert read(ksm, "run") == "0\n"
    assert read(ksm, "pages_shared") == "5\n"


def test_run_during_memory_offlining(ksm):
    write(ksm, "run", "1")
    ksm.merge_state({"offlining": True})
    assert int(read(ksm, "run")) & 3 == 1
    assert read(ksm, "run") == "5\n"


# -- pages_to_scan, sleep_millisecs, prune ---------------------------------------


@pytest.mark.parametrize("attr", ["pages_to_scan", "sleep_millisecs", "stable_node_chains_prune_millisecs"])
def test_uint_knobs(ksm, attr):
    for value in (0, 1, 100000, 4294967295):
        write(ksm, attr, "%d\n" % value)
        assert read(ksm, attr) == "%d\n" % value
    for text in ("4294967296", "-1", "1.5", " 5"):
        assert write_errno(ksm, attr, text) == errno.EINVAL


def test_pages_to_scan_refused_while_advisor_runs(ksm):
    write(ksm, "advisor_mode", "scan-time\n")
    assert read(ksm, "pages_to_scan") == "500\n"
    assert write_errno(ksm, "pages_to_scan", "100\n") == errno.EINVAL
    assert write_errno(ksm, "pages_to_scan", "junk") == errno.EINVAL
    write(ksm, "advisor_mode", "none\n")
    assert read(ksm, "pages_to_scan") == "100\n"
    write(ksm, "pages_to_scan", "1234\n")
    assert read(ksm, "pages_to_scan") == "1234\n"


def test_advisor_mode(ksm):
    write(ksm, "advisor_min_pages_to_scan", "700\n")
    write(ksm, "pages_to_scan", "55\n")
    write(ksm, "advisor_mode", "none\n")  # no change: pages_to_scan untouched
    assert read(ksm, "pages_to_scan") == "55\n"
    write(ksm, "advisor_mode", "scan-time")
    assert read(ksm, "advisor_mode") == "none [scan-time]\n"
    assert read(ksm, "pages_to_scan") == "700\n"
    write(ksm, "advisor_mode", "scan-time\n")  # same mode: no reset
    assert read(ksm, "pages_to_scan") == "700\n"
    for text in ("scan-time ", "Scan-time", "none\n\n", "[none] scan-time", "", "scan"):
        if text:
            assert write_errno(ksm, "advisor_mode", text) == errno.EINVAL
    assert read(ksm, "advisor_mode") == "none [scan-time]\n"


# -- merge_across_nodes and max_page_sharing --------------------------------------


def test_merge_across_nodes(ksm):
    write(ksm, "merge_across_nodes", "0\n")
    assert read(ksm, "merge_across_nodes") == "0\n"
    assert write_errno(ksm, "merge_across_nodes", "2\n") == errno.EINVAL
    assert write_errno(ksm, "merge_across_nodes", "x") == errno.EINVAL
    assert write_errno(ksm, "merge_across_nodes", "99999999999999999999999") == errno.ERANGE


def test_merge_across_nodes_busy_while_shared(ksm):
    ksm.merge_state({"pages_shared": 3})
    assert write(ksm, "merge_across_nodes", "1\n") == 2  # current value never fails
    assert write_errno(ksm, "merge_across_nodes", "0\n") == errno.EBUSY
    assert read(ksm, "merge_across_nodes") == "1\n"


def test_max_page_sharing(ksm):
    for value in (2, 3, 1024, 2147483647):
        write(ksm, "max_page_sharing", "%d\n" % value)
        assert read(ksm, "max_page_sharing") == "%d\n" % value
    for text in ("1", "0", "-5"):
        assert write_errno(ksm, "max_page_sharing", text) == errno.EINVAL
    assert write_errno(ksm, "max_page_sharing", "2147483648") == errno.ERANGE


def test_max_page_sharing_busy_while_shared(ksm):
    ksm.merge_state({"pages_shared": 3})
    assert write(ksm, "max_page_sharing", "256\n") == 4
    assert write_errno(ksm, "max_page_sharing", "512\n") == errno.EBUSY
    assert write_errno(ksm, "max_page_sharing", "1\n") == errno.EINVAL  # range check first
    # The documented procedure: unmerge, change, restore run.
    write(ksm, "run", "2\n")
    write(ksm, "max_page_sharing", "512\n")
    assert read(ksm, "max_page_sharing") == "512\n"


# -- booleans -------------------------------------------------------------------------


@pytest.mark.parametrize("attr", ["use_zero_pages", "smart_scan"])
@pytest.mark.parametrize(
    "text, value",
    [
        ("1", 1),
        ("y", 1),
        ("Y\n", 1),
        ("on", 1),
        ("yes", 1),
        ("true", 1),
        ("0", 0),
        ("n", 0),
        ("N\n", 0),
        ("off", 0),
        ("no", 0),
        ("false", 0),
    ],
)
def test_booleans(ksm, attr, text, value):
    write(ksm, attr, "0" if value else "1")
    write(ksm, attr, text)
    assert read(ksm, attr) == "%d\n" % value


@pytest.mark.parametrize("attr", ["use_zero_pages", "smart_scan"])
def test_booleans_reject(ksm, attr):
    for text in ("2", "o", "x", " 1", "\n"):
        assert write_errno(ksm, attr, text) == errno.EINVAL


def test_old_kernel_booleans_have_no_true_false():
    kernel = make_kernel("ksm-old")
    assert write_errno(kernel, "use_zero_pages", "true") == errno.EINVAL
    write(kernel, "use_zero_pages", "on")
    assert read(kernel, "use_zero_pages") == "1\n"


def test_old_kernel_pages_to_scan_has_no_advisor():
    kernel = make_kernel("ksm-old")
    write(kernel, "pages_to_scan", "777")
    assert read(kernel, "pages_to_scan") == "777\n"
    with pytest.raises(OSError) as info:
        kernel.read("advisor_mode")
    assert info.value.errno == errno.ENOENT


# -- advisor values -------------------------------------------------------------------


def test_advisor_values(ksm):
    write(ksm, "advisor_max_cpu", "150\n")  # no range check
    assert read(ksm, "advisor_max_cpu") == "150\n"
    write(ksm, "advisor_max_cpu", "4294967306\n")  # unsigned int storage
    assert read(ksm, "advisor_max_cpu") == "10\n"
    write(ksm, "advisor_max_pages_to_scan", "18446744073709551615")
    assert read(ksm, "advisor_max_pages_to_scan") == "18446744073709551615\n"
    write(ksm, "advisor_min_pages_to_scan", "0")
    assert read(ksm, "advisor_min_pages_to_scan") == "0\n"
    write(ksm, "advisor_target_scan_time", "1\n")
    assert read(ksm, "advisor_target_scan_time") == "1\n"
    assert write_errno(ksm, "advisor_target_scan_time", "0\n") == errno.EINVAL
    assert write_errno(ksm, "advisor_max_cpu", "-1") == errno.EINVAL
    assert write_errno(ksm, "advisor_min_pages_to_scan", "18446744073709551616") == errno.EINVAL


# -- statistics ---------------------------------------------------------------------------


def test_negative_profit_and_clamped_volatile():
    kernel = KsmKernel(state=boot_state("ksm", negative_profit=True))
    assert int(read(kernel, "general_profit")) < 0
    assert read(kernel, "general_profit") == "-2520000\n"
    kernel.merge_state({"pages_volatile": -7})
    assert read(kernel, "pages_volatile") == "0\n"


def test_state_merge_validation(ksm):
    ksm.merge_state({"advisor_mode": "scan-time", "unmerge_error": None, "general_profit": -5})
    assert read(ksm, "general_profit") == "-5\n"
    for patch in ({"advisor_mode": "auto"}, {"unmerge_error": "EWHAT"}, {"run": "1"}):
        with pytest.raises(OSError):
            ksm.merge_state(patch)
