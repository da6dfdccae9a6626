// Prints one plain closing line, `e2e: N passed, N failed[, N skipped]`, which CI reads
// (Playwright's own summary is not a format CI knows).
class SummaryReporter {
  onBegin(_config, suite) {
    this.suite = suite;
  }

  onEnd(result) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const test of this.suite.allTests()) {
      const outcome = test.outcome();
      if (outcome === 'expected' || outcome === 'flaky') passed += 1;
      else if (outcome === 'skipped') skipped += 1;
      else failed += 1;
    }
    if (result.status !== 'passed' && failed === 0) failed = 1; // e.g. a web server did not start
    const tail = skipped ? `, ${skipped} skipped` : '';
    process.stdout.write(`e2e: ${passed} passed, ${failed} failed${tail}\n`);
  }

  printsToStdio() {
    return false;
  }
}

module.exports = SummaryReporter;
