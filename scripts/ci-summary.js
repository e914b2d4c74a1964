#!/usr/bin/env node
/**
 * Reads Jest's --json output and counts tests for .ci/run:
 *
 *   node scripts/ci-summary.js <jest.json> <jest exit code>
 *
 * stdout: one line `passed=<N> failed=<M>` (for .ci/run to add its own gates to).
 * stderr: the failing suites and tests, by name.
 *
 * Nothing can hide a failure: a suite that failed to run at all (syntax error, a throwing
 * beforeAll/afterAll, a crashed import) counts as one failed test even though it reported none;
 * a missing or unreadable report counts as one; a non-zero Jest exit with nothing else failed
 * (no tests found, interrupted, killed by the time limit) counts as one.
 */
'use strict';

const fs = require('node:fs');

function main(argv) {
  const [file, exitArg] = argv;
  const exitCode = Number.parseInt(exitArg ?? '1', 10);
  const notes = [];
  let passed = 0;
  let failed = 0;

  let report;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    failed = 1;
    notes.push(`no readable Jest report at ${file} (${err.message}): counted as 1 failure`);
  }

  if (report) {
    passed = report.numPassedTests ?? 0;
    failed = report.numFailedTests ?? 0;
    for (const suite of report.testResults ?? []) {
      const failing = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
      if (suite.status === 'failed' && failing.length === 0) {
        failed += 1;
        const why = firstLine(suite.testExecError && suite.testExecError.message) || firstLine(suite.message) || 'suite failed';
        notes.push(`suite failed to run: ${suite.name}\n      ${why}`);
      }
      for (const t of failing) notes.push(`failed: ${t.fullName || t.title}  (${suite.name})`);
    }
    if (report.wasInterrupted) notes.push('the Jest run was interrupted');
    if ((report.numTotalTests ?? 0) === 0) notes.push('Jest ran no test');
  }

  if (exitCode !== 0 && failed === 0) {
    failed = 1;
    notes.push(`Jest exited with code ${exitCode} although no test failed: counted as 1 failure`);
  }

  for (const n of notes) process.stderr.write(`  ${n}\n`);
  process.stdout.write(`passed=${passed} failed=${failed}\n`);
}

function firstLine(text) {
  if (!text) return '';
  // Strip ANSI colour codes from Jest's pre-formatted messages.
  const plain = String(text).replace(/\u001b\[[0-9;]*m/g, '');
  const lines = plain.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('●'));
  return lines[0] ?? '';
}

main(process.argv.slice(2));
