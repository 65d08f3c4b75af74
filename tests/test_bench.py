"""The benchmark suite runs (quick mode: tiny sizes), prints every row and writes valid JSON. No timings."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))


def test_quick_benchmark_prints_every_row_and_writes_json(tmp_path):
    import run
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--json", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["quick"] is True
    ids = [row["id"] for row in result["rows"]]
    assert sorted(ids) == sorted(run.ROW_IDS), set(ids) ^ set(run.ROW_IDS)
    assert len(ids) == len(set(ids))
    for row in result["rows"]:
        assert row["value"] is not None or row["note"], f"row {row['id']} has neither a value nor a note"
        assert not str(row["note"]).startswith("FAILED"), f"row {row['id']}: {row['note']}"
    assert "blas" in result["machine"] and "threads" in result["machine"]
    assert "tinytorch" in done.stdout and "ratio" in done.stdout
