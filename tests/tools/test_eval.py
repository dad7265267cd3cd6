#!/usr/bin/python3
"""test_eval.py — tools/eval: tcpr-eval against hand-computed fixtures, and sweep.

Usage: /usr/bin/python3 tests/tools/test_eval.py

tests/tools/eval_fixtures/basic is written by hand: 12 labelled agents (tick 0.1 s), 7 anomalous
of 3 kinds and 5 normal, every figure below computed by hand from it:

  agent      label                         report first_anomalous_ts   outcome  latency
  10.1.0.10  port_scan   onset ...05.0     ...05.25                    TP       0.25 s -> 3 ticks (2.5 up)
  10.1.0.11  port_scan   onset ...06.0     ...06.28                    TP       0.28 s -> 3 ticks (2.8 up)
  10.1.0.12  port_scan   onset ...04.0     ...03.5                     early
  10.1.0.13  secret_leak onset ...02.5     ...02.5                     TP       0 s    -> 0 ticks
  10.1.0.14  secret_leak onset ...08.0     null                        FN
  10.1.0.15  beacon      onset ...07.0     (not in the report)         FN
  10.1.0.16  port_scan   onset ...10.0     ...11.05                    TP       1.05 s -> 11 ticks (10.5 up)
  10.1.0.17  normal                        ...09.0                     normal detected
  10.1.0.18-21 normal                      null                        -

  port_scan   4: TP 3 FN 0 early 1, recall 3/4, latency median 0.28 (3 ticks) max 1.05 (11)
  beacon      1: TP 0 FN 1, recall 0, no latency
  secret_leak 2: TP 1 FN 1, recall 1/2, latency 0 / 0
  all         7: TP 4 FN 2 early 1, recall 4/7; normal 5, detected 1, FP 1 + 1 = 2, FPR 1/5,
              precision 4/6; latencies 0, 0.25, 0.28, 1.05: median 0.265 (2.65 -> 3 ticks), max 1.05
  rate kinds  5 (port_scan + beacon): TP 3 FN 1 early 1, recall 3/5, latency 0.28 / 1.05, 3 / 11 ticks

With --tick 0.02 (a report without behavior.tick_seconds): 0.25 -> 13 ticks (12.5 up), 0.28 -> 14
(0.28 / 0.02 is 14.000000000000002 in floating point: rounded to 6 decimals before rounding up),
1.05 -> 53 (52.5 up), all median 0.265 -> 14 (13.25 up).

The sweep is checked in --dry-run (the K rule, the rotation of kinds below 16 agents) and run
end to end over stand-in generator and router scripts whose outcomes are computed by hand.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EVAL = os.path.join(ROOT, 'tools', 'eval', 'tcpr-eval')
SWEEP = os.path.join(ROOT, 'tools', 'eval', 'sweep')
BASIC = os.path.join(ROOT, 'tests', 'tools', 'eval_fixtures', 'basic')
KINDS = ['exfil_burst', 'port_scan', 'syn_flood', 'tool_storm', 'beacon', 'secret_leak',
         'lateral', 'prompt_flood']

BASIC_TABLE = """\
kind            anom    TP    FN early recall normal  ndet    FP    FPR   prec lat_med_s lat_max_s med_tk max_tk
port_scan          4     3     0     1  0.750      -     -     -      -      -     0.280     1.050      3     11
beacon             1     0     1     0  0.000      -     -     -      -      -         -         -      -      -
secret_leak        2     1     1     0  0.500      -     -     -      -      -     0.000     0.000      0      0
all                7     4     2     1  0.571      5     1     2  0.200  0.667     0.265     1.050      3     11
tick 0.1 s (summary.json), tick ms p50 0.25 p99 0.9 max 1.5
not in the report (counted as not detected): 10.1.0.15
"""


def run(script, *args, env=None):
    return subprocess.run([sys.executable, script, *map(str, args)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env)


def latency(median_s, max_s, median_tk, max_tk):
    return {'latency_s': {'median': median_s, 'max': max_s},
            'latency_ticks': {'median': median_tk, 'max': max_tk}}


class Scratch(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='test_eval.')

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def copy_basic(self):
        """A writable copy of the basic fixture: (report dir, labels)."""
        dst = os.path.join(tempfile.mkdtemp(dir=self.tmp), 'basic')
        shutil.copytree(BASIC, dst)
        return os.path.join(dst, 'report'), os.path.join(dst, 'cap.pcap.agents.jsonl')

    @staticmethod
    def edit_line(path, number, text):
        with open(path) as f:
            lines = f.read().split('\n')
        lines[number - 1] = text
        with open(path, 'w') as f:
            f.write('\n'.join(lines))

    @staticmethod
    def append(path, text):
        with open(path, 'a') as f:
            f.write(text + '\n')

    def eval_json(self, *args):
        out = os.path.join(self.tmp, 'out.json')
        r = run(EVAL, *args, '--json', out)
        with open(out) as f:
            return r, json.load(f)


class TcprEvalBasic(Scratch):
    def test_scripts_are_executable(self):
        self.assertTrue(os.access(EVAL, os.X_OK))
        self.assertTrue(os.access(SWEEP, os.X_OK))

    def test_table(self):
        r = run(EVAL, os.path.join(BASIC, 'report'), os.path.join(BASIC, 'cap.pcap.agents.jsonl'))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, BASIC_TABLE)
        self.assertEqual(r.stderr, '')  # events.jsonl agrees with agents.jsonl: no warning

    def test_json(self):
        r, j = self.eval_json(os.path.join(BASIC, 'report'), os.path.join(BASIC, 'cap.pcap.agents.jsonl'))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, BASIC_TABLE)
        self.assertEqual(list(j['kinds']), ['port_scan', 'beacon', 'secret_leak'])
        # same_packet: None without --capture.
        self.assertEqual(j['kinds']['port_scan'], {'anomalous': 4, 'tp': 3, 'fn': 0, 'early': 1, 'same_packet': None,
                                                   'recall': 0.75, **latency(0.28, 1.05, 3, 11)})
        self.assertEqual(j['kinds']['beacon'], {'anomalous': 1, 'tp': 0, 'fn': 1, 'early': 0, 'same_packet': None,
                                                'recall': 0.0, **latency(None, None, None, None)})
        self.assertEqual(j['kinds']['secret_leak'], {'anomalous': 2, 'tp': 1, 'fn': 1, 'early': 0, 'same_packet': None,
                                                     'recall': 0.5, **latency(0.0, 0.0, 0, 0)})
        self.assertEqual(j['all'], {'anomalous': 7, 'tp': 4, 'fn': 2, 'early': 1, 'recall': 0.571429,
                                    'same_packet': None, **latency(0.265, 1.05, 3, 11),
                                    'normal': 5, 'normal_detected': 1, 'fp': 2, 'fpr': 0.2,
                                    'precision': 0.666667})
        self.assertEqual(j['rate_kinds'], {'anomalous': 5, 'tp': 3, 'fn': 1, 'early': 1, 'same_packet': None,
                                           'recall': 0.6, **latency(0.28, 1.05, 3, 11)})
        self.assertEqual(j['tick_seconds'], 0.1)
        self.assertEqual(j['tick_source'], 'summary.json')
        self.assertEqual(j['tick_ms'], {'p50': 0.25, 'p99': 0.9, 'max': 1.5})
        self.assertEqual(j['missing_from_report'], ['10.1.0.15'])
        self.assertEqual(j['unlabelled'], [])
        self.assertEqual(j['warnings'], [])
        self.assertEqual(j['violations'], [])

    def test_agent_outcomes(self):
        _, j = self.eval_json(os.path.join(BASIC, 'report'), os.path.join(BASIC, 'cap.pcap.agents.jsonl'))
        got = {a['agent']: (a['outcome'], a['latency_s'], a['latency_ticks'], a['in_report'])
               for a in j['agents']}
        self.assertEqual(got, {
            '10.1.0.10': ('tp', 0.25, 3, True), '10.1.0.11': ('tp', 0.28, 3, True),
            '10.1.0.12': ('early', None, None, True), '10.1.0.13': ('tp', 0.0, 0, True),
            '10.1.0.14': ('fn', None, None, True), '10.1.0.15': ('fn', None, None, False),
            '10.1.0.16': ('tp', 1.05, 11, True), '10.1.0.17': ('fp', None, None, True),
            '10.1.0.18': ('tn', None, None, True), '10.1.0.19': ('tn', None, None, True),
            '10.1.0.20': ('tn', None, None, True), '10.1.0.21': ('tn', None, None, True)})

    def test_tick_from_option_for_old_reports(self):
        report, labels = self.copy_basic()
        with open(os.path.join(report, 'summary.json'), 'w') as f:
            f.write('{"packets": 48210, "bytes": 31877342}\n')
        r = run(EVAL, report, labels)
        self.assertEqual(r.returncode, 2)
        self.assertIn('summary.json: no behavior.tick_seconds; give the tick with --tick', r.stderr)
        r, j = self.eval_json(report, labels, '--tick', '0.02')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual((j['tick_seconds'], j['tick_source'], j['tick_ms']), (0.02, '--tick', None))
        self.assertEqual(j['kinds']['port_scan']['latency_ticks'], {'median': 14, 'max': 53})
        self.assertEqual(j['kinds']['secret_leak']['latency_ticks'], {'median': 0, 'max': 0})
        self.assertEqual(j['all']['latency_ticks'], {'median': 14, 'max': 53})
        ticks = {a['agent']: a['latency_ticks'] for a in j['agents'] if a['outcome'] == 'tp'}
        self.assertEqual(ticks, {'10.1.0.10': 13, '10.1.0.11': 14, '10.1.0.13': 0, '10.1.0.16': 53})
        self.assertIn('\ntick 0.02 s (--tick)\n', r.stdout)

    def test_tick_option_does_not_override_summary(self):
        r, j = self.eval_json(os.path.join(BASIC, 'report'), os.path.join(BASIC, 'cap.pcap.agents.jsonl'),
                              '--tick', '0.05')
        self.assertEqual(r.returncode, 0)
        self.assertEqual(j['tick_seconds'], 0.1)
        self.assertEqual(j['all']['latency_ticks'], {'median': 3, 'max': 11})
        self.assertIn('--tick 0.05 ignored: summary.json says tick_seconds 0.1', r.stderr)


class TcprEvalBadInput(Scratch):
    def expect_error(self, report, labels, message, *args):
        r = run(EVAL, report, labels, *args)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(message, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        return r

    def test_missing_files(self):
        report, labels = self.copy_basic()
        self.expect_error(report, labels + '.nope', f'{labels}.nope: No such file or directory')
        for name in ('agents.jsonl', 'events.jsonl', 'summary.json'):
            report, labels = self.copy_basic()
            os.remove(os.path.join(report, name))
            self.expect_error(report, labels, f'{os.path.join(report, name)}: No such file or directory')

    def test_malformed_lines(self):
        report, labels = self.copy_basic()
        agents = os.path.join(report, 'agents.jsonl')
        self.edit_line(agents, 3, '{"agent":"10.1.0.12","zone":"QUARANTINED",')
        self.expect_error(report, labels, f'tcpr-eval: {agents}:3: bad JSON:')

        report, labels = self.copy_basic()
        self.edit_line(labels, 10, '{"agent":"10.1.0.18","role":"normal"')  # line 9 is blank
        self.expect_error(report, labels, f'tcpr-eval: {labels}:10: bad JSON:')

        report, labels = self.copy_basic()
        events = os.path.join(report, 'events.jsonl')
        self.edit_line(events, 7, '[1700000005.1, "10.1.0.10"]')
        self.expect_error(report, labels, f'{events}:7: not a JSON object')

        report, labels = self.copy_basic()
        summary = os.path.join(report, 'summary.json')
        self.edit_line(summary, 4, '    "tick_seconds": 0.1,,')
        self.expect_error(report, labels, f'{summary}:4: bad JSON:')

    def test_bad_values(self):
        cases = [
            ('labels', 4, '{"agent":"10.1.0.13","role":"anomalous","kind":"secret_leak"}', ':4: missing key "onset"'),
            ('labels', 1, '{"agent":"10.1.0.10","role":"attacker","kind":"port_scan","onset":1}', ':1: "role" must be "normal" or "anomalous"'),
            ('labels', 2, '{"agent":"10.1.0.10","role":"normal"}', ':2: agent 10.1.0.10 labelled twice (first on line 1)'),
            ('agents.jsonl', 5, '{"agent":"10.1.0.14","zone":"BLOCKED","first_anomalous_ts":null}', ':5: "zone" must be one of TRUSTED|MONITORED|QUARANTINED|ISOLATED'),
            ('agents.jsonl', 5, '{"agent":"10.1.0.14","zone":"TRUSTED","first_anomalous_ts":"soon"}', ':5: "first_anomalous_ts" must be capture seconds or null, not "soon"'),
            ('agents.jsonl', 2, '{"agent":"10.1.0.10","zone":"TRUSTED","first_anomalous_ts":null}', ':2: agent 10.1.0.10 reported twice (first on line 1)'),
            ('events.jsonl', 3, '{"agent":"10.1.0.19","from":"MONITORED","to":"TRUSTED"}', ':3: missing key "ts"'),
        ]
        for which, line, text, message in cases:
            with self.subTest(which=which, line=line):
                report, labels = self.copy_basic()
                path = labels if which == 'labels' else os.path.join(report, which)
                self.edit_line(path, line, text)
                self.expect_error(report, labels, path + message)

    def test_unlabelled_agent(self):
        report, labels = self.copy_basic()
        self.append(os.path.join(report, 'agents.jsonl'),
                    '{"agent":"10.1.0.99","zone":"TRUSTED","trust":0.9,"score":0.1,"features":{},"first_anomalous_ts":null}')
        self.expect_error(report, labels, f'agent not in {labels}: 10.1.0.99 (line 12)')
        r, j = self.eval_json(report, labels, '--ignore-unlabelled')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, BASIC_TABLE + 'ignored 1 unlabelled agent(s): 10.1.0.99\n')
        self.assertEqual(j['unlabelled'], ['10.1.0.99'])
        self.assertEqual(j['all']['normal'], 5)

    def test_bad_options(self):
        r = run(EVAL, os.path.join(BASIC, 'report'), os.path.join(BASIC, 'cap.pcap.agents.jsonl'),
                '--min-recall', '1.5')
        self.assertEqual(r.returncode, 2)
        r = run(EVAL, os.path.join(BASIC, 'report'))
        self.assertEqual(r.returncode, 2)


class TcprEvalThresholds(Scratch):
    def check(self, args, status, message=None):
        r, j = self.eval_json(os.path.join(BASIC, 'report'), os.path.join(BASIC, 'cap.pcap.agents.jsonl'), *args)
        self.assertEqual(r.returncode, status, r.stderr)
        self.assertEqual(r.stdout, BASIC_TABLE)  # the measurement is printed either way
        if message:
            self.assertIn(f'tcpr-eval: threshold violated: {message}', r.stderr)
            self.assertIn(message, j['violations'])
        else:
            self.assertEqual(j['violations'], [])

    def test_thresholds(self):
        self.check(['--min-recall', '0.57'], 0)                      # recall 4/7 = 0.5714
        self.check(['--min-recall', '0.58'], 1, 'recall 0.571 < --min-recall 0.58')
        self.check(['--max-fpr', '0.2'], 0)                          # FPR 1/5
        self.check(['--max-fpr', '0.19'], 1, 'false-positive rate 0.200 > --max-fpr 0.19')
        self.check(['--min-recall', '0.5', '--max-fpr', '0.25'], 0)

    def test_undefined_recall_violates(self):
        report, labels = self.copy_basic()
        with open(labels, 'w') as f:
            for i in range(10, 22):
                f.write(json.dumps({'agent': f'10.1.0.{i}', 'role': 'normal', 'kind': None, 'onset': None}) + '\n')
        r = run(EVAL, report, labels, '--min-recall', '0.5')
        self.assertEqual(r.returncode, 1)
        self.assertIn('recall undefined (no anomalous agent)', r.stderr)
        # 12 normal agents, 6 detected (.10 .11 .12 .13 .16 .17): FPR 0.5, no kind row.
        self.assertEqual(r.stdout.splitlines()[1].split(),
                         ['all', '0', '0', '0', '0', '-', '12', '6', '6', '0.500', '0.000', '-', '-', '-', '-'])


class TcprEvalEventChecks(Scratch):
    def warnings(self, report, labels):
        r, j = self.eval_json(report, labels)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, BASIC_TABLE)  # warnings do not change a figure
        self.assertEqual([f'tcpr-eval: warning: {w}' for w in j['warnings']], r.stderr.splitlines())
        return j['warnings']

    def test_missing_event(self):
        report, labels = self.copy_basic()
        self.edit_line(os.path.join(report, 'events.jsonl'), 15, '')  # 10.1.0.16's escalation
        self.assertEqual(self.warnings(report, labels), [
            '10.1.0.16: no event out of TRUSTED/MONITORED at first_anomalous_ts 1700000011.05 in events.jsonl'])

    def test_event_earlier_than_first_anomalous_ts(self):
        report, labels = self.copy_basic()
        self.append(os.path.join(report, 'events.jsonl'),
                    '{"ts":1700000006.1,"agent":"10.1.0.11","from":"TRUSTED","to":"ISOLATED","score":1,"reason":"x"}')
        self.assertEqual(self.warnings(report, labels), [
            '10.1.0.11: events.jsonl has an earlier transition out of TRUSTED/MONITORED '
            '(1700000006.1) than first_anomalous_ts 1700000006.28'])

    def test_escalation_of_an_undetected_agent(self):
        report, labels = self.copy_basic()
        self.append(os.path.join(report, 'events.jsonl'),
                    '{"ts":1700000012.0,"agent":"10.1.0.18","from":"TRUSTED","to":"QUARANTINED","score":1,"reason":"x"}')
        self.edit_line(os.path.join(report, 'agents.jsonl'), 5,
                       '{"agent":"10.1.0.14","zone":"QUARANTINED","first_anomalous_ts":null}')
        self.assertEqual(self.warnings(report, labels), [
            '10.1.0.14: zone QUARANTINED but first_anomalous_ts is null',
            '10.1.0.18: first_anomalous_ts is null but events.jsonl has a transition out of '
            'TRUSTED/MONITORED at 1700000012.0'])


def dry_run(*args):
    r = run(SWEEP, '--build', '/nonexistent/build', '--out', '/nonexistent/out', '--dry-run', *args)
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    runs, current = [], None
    for line in r.stdout.splitlines():
        if line.startswith('# agents ') and ' seed ' in line:
            current = {'header': line, 'commands': []}
            runs.append(current)
        elif not line.startswith('#'):
            current['commands'].append(line.split())
    return r, runs


def option(cmd, name):
    return cmd[cmd.index(name) + 1]


class SweepDryRun(unittest.TestCase):
    def test_commands_and_k_rule(self):
        r, runs = dry_run('--agents', '10,16,50,100,500,10000,100000', '--seeds', '20')
        self.assertEqual(r.stderr, '')  # 10 agents x 20 seeds cover every kind twice: no warning
        self.assertEqual(len(runs), 7 * 20)
        # A // 100 up to 10 000 agents; above, 10 of every kind at half the rate (the docstring's
        # large-run rule: all=1000 would write a capture of more than 30 GB).
        expected_k = {16: 1, 50: 1, 100: 1, 500: 5, 10000: 100, 100000: 10}
        for i, run_ in enumerate(runs):
            agents, seed = [10, 16, 50, 100, 500, 10000, 100000][i // 20], i % 20 + 1
            gen, replay, ev = run_['commands']
            d = f'/nonexistent/out/agents-{agents}/seed-{seed}'
            self.assertEqual(gen[:2], ['/nonexistent/build/tools/tcp-routegen/tcp-routegen', '-o'])
            self.assertEqual(option(gen, '-o'), f'{d}/cap.pcap')
            self.assertIn('--behavior', gen)
            self.assertEqual((option(gen, '--agents'), option(gen, '--seed'), option(gen, '--duration')),
                             (str(agents), str(seed), '20'))
            self.assertEqual(option(gen, '--rate'), '0.25' if agents == 100000 else '0.5')
            subnet = '10.0.0.0/15' if agents == 100000 else '10.1.0.0/16'
            self.assertEqual(option(gen, '--agent-subnet'), subnet)
            self.assertEqual(replay, ['/nonexistent/build/src/tcp-routed', 'replay', f'{d}/cap.pcap',
                                      '--report-dir', f'{d}/r', '--agents', subnet, '--workers', '1', '-q'])
            self.assertEqual(ev[1:], [f'{d}/r', f'{d}/cap.pcap.agents.jsonl', '--json', f'{d}/eval.json', '--ignore-unlabelled',
                                      '--capture', f'{d}/cap.pcap'])
            if agents >= 16:
                self.assertEqual(option(gen, '--anomalies'), f'all={expected_k[agents]}')
                self.assertIn(f'({8 * expected_k[agents]} of {agents} agents anomalous)', run_['header'])
        self.assertIn('# then delete: /nonexistent/out/agents-10/seed-1/cap.pcap '
                      '/nonexistent/out/agents-10/seed-1/cap.pcap.labels.jsonl '
                      '/nonexistent/out/agents-10/seed-1/r/out', r.stdout)
        self.assertIn('# note: /nonexistent/build/tools/tcp-routegen/tcp-routegen does not exist (yet)', r.stdout)

    def test_rotation_below_16_agents(self):
        _, runs = dry_run('--agents', '10', '--seeds', '20')
        plans = [option(r['commands'][0], '--anomalies') for r in runs]
        # 10 agents: 10 // 2 = 5 kinds per seed, one agent each, from position (seed - 1) * 5.
        self.assertEqual(plans[0], 'exfil_burst=1,port_scan=1,syn_flood=1,tool_storm=1,beacon=1')
        self.assertEqual(plans[1], 'secret_leak=1,lateral=1,prompt_flood=1,exfil_burst=1,port_scan=1')
        self.assertEqual(plans[2], 'syn_flood=1,tool_storm=1,beacon=1,secret_leak=1,lateral=1')
        self.assertEqual(plans[8], plans[0])  # 8 seeds x 5 = 40 = 5 cycles
        self.assertIn('(5 of 10 agents anomalous)', runs[0]['header'])
        used = {k: sum(1 for p in plans if f'{k}=1' in p.split(',')) for k in KINDS}
        # 100 kind slots over 8 kinds, tiled: 13 for the first 4 kinds, 12 for the others.
        self.assertEqual(used, {'exfil_burst': 13, 'port_scan': 13, 'syn_flood': 13, 'tool_storm': 13,
                                'beacon': 12, 'secret_leak': 12, 'lateral': 12, 'prompt_flood': 12})

    def test_rotation_tiny(self):
        r, runs = dry_run('--agents', '3,1', '--seeds', '16')
        plans = [option(x['commands'][0], '--anomalies') for x in runs]
        # 3 and 1 agents: one kind per seed, seed s -> KINDS[(s - 1) % 8]: every kind twice.
        self.assertEqual(plans[:16], [f'{KINDS[s % 8]}=1' for s in range(16)])
        self.assertEqual(plans[16:], plans[:16])
        self.assertEqual(r.stderr, '')
        r, _ = dry_run('--agents', '3', '--seeds', '9')
        self.assertIn('sweep: warning: 3 agents, 9 seed(s): kinds used fewer than twice: '
                      'port_scan 1, syn_flood 1, tool_storm 1, beacon 1, secret_leak 1, lateral 1, prompt_flood 1',
                      r.stderr)

    def test_keep_and_options(self):
        r, runs = dry_run('--agents', '50', '--seeds', '1', '--keep', '--workers', '3', '--duration', '7.5')
        self.assertNotIn('then delete', r.stdout)
        gen, replay, _ = runs[0]['commands']
        self.assertEqual(option(gen, '--duration'), '7.5')
        self.assertEqual(option(replay, '--workers'), '3')



def pcap(path, frames, nanos=False):
    """A classic pcap of (seconds, frame bytes)."""
    import struct
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b23c4d if nanos else 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for ts, fr in frames:
            whole, frac = int(ts), round((ts - int(ts)) * (1e9 if nanos else 1e6))
            f.write(struct.pack('<IIII', whole, frac, len(fr), len(fr)) + fr)


def tcp_frame(src, sport, seq, flags, payload=b'', vlan=False):
    import struct
    tcp = struct.pack('>HHIIBBHHH', sport, 80, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, bytes(src), bytes([10, 2, 0, 1])) + tcp
    eth = bytes(12) + (b'\x81\x00\x00\x05' if vlan else b'') + b'\x08\x00'
    return eth + ip


class TcprEvalCapture(Scratch):
    """--capture: secret_leak latency from the packet that completes the secret.

    Labels: 10.1.0.20 and 10.1.0.21 secret_leak with onset 100.0 (their SYNs), 10.1.0.22 normal.
    10.1.0.20: 'AKIA' + 16 characters split over two segments at 100.010 and 100.020 (the second
    completes it), then a retransmission of the first at 100.030 (ignored); the router detected at
    100.020: latency 0, same packet. 10.1.0.21, behind a VLAN tag, sends a PEM header in one
    segment at 100.050, preceded by an out-of-order segment at 100.040 holding a whole key id (not
    followed: its sequence number is ahead of the stream); detected at 100.060: latency 0.01 s,
    not the same packet."""

    def write(self, detected):
        d = tempfile.mkdtemp(dir=self.tmp)
        report = os.path.join(d, 'r')
        os.makedirs(report)
        labels = os.path.join(d, 'cap.pcap.agents.jsonl')
        with open(labels, 'w') as f:
            for host in (20, 21):
                f.write(json.dumps({'agent': f'10.1.0.{host}', 'role': 'anomalous', 'kind': 'secret_leak',
                                    'onset': 100.0}) + '\n')
            f.write(json.dumps({'agent': '10.1.0.22', 'role': 'normal', 'kind': None, 'onset': None}) + '\n')
        with open(os.path.join(report, 'agents.jsonl'), 'w') as ag, open(os.path.join(report, 'events.jsonl'), 'w') as ev:
            for agent, ts in detected.items():
                ag.write(json.dumps({'agent': agent, 'zone': 'QUARANTINED' if ts else 'TRUSTED',
                                     'first_anomalous_ts': ts}) + '\n')
                if ts:
                    ev.write(json.dumps({'ts': ts, 'agent': agent, 'from': 'MONITORED', 'to': 'QUARANTINED'}) + '\n')
        with open(os.path.join(report, 'summary.json'), 'w') as f:
            json.dump({'behavior': {'tick_seconds': 0.1}}, f)
        a, b = [10, 1, 0, 20], [10, 1, 0, 21]
        cap = os.path.join(d, 'cap.pcap')
        pcap(cap, [(100.0, tcp_frame(a, 1000, 499, 0x02)),
                   (100.010, tcp_frame(a, 1000, 500, 0x18, b'id=AKIAABCDEF')),
                   (100.020, tcp_frame(a, 1000, 513, 0x18, b'GHIJKLMNOP&x=1')),
                   (100.030, tcp_frame(a, 1000, 500, 0x18, b'id=AKIAABCDEF')),
                   (100.0, tcp_frame(b, 2000, 9, 0x02, vlan=True)),
                   (100.040, tcp_frame(b, 2000, 5000, 0x18, b'AKIAABCDEFGHIJKLMNOP', vlan=True)),
                   (100.050, tcp_frame(b, 2000, 10, 0x18, b'-----BEGIN RSA PRIVATE KEY-----\n', vlan=True))])
        return report, labels, cap

    def test_latency_from_the_secret_packet(self):
        report, labels, cap = self.write({'10.1.0.20': 100.020, '10.1.0.21': 100.060, '10.1.0.22': None})
        r, j = self.eval_json(report, labels, '--capture', cap)
        self.assertEqual(r.returncode, 0, r.stderr)
        agents = {o['agent']: o for o in j['agents']}
        self.assertEqual(agents['10.1.0.20']['leak_ts'], 100.02)
        self.assertEqual(agents['10.1.0.20']['latency_s'], 0.0)
        self.assertTrue(agents['10.1.0.20']['same_packet'])
        self.assertEqual(agents['10.1.0.21']['leak_ts'], 100.05)
        self.assertEqual(agents['10.1.0.21']['latency_s'], 0.01)
        self.assertFalse(agents['10.1.0.21']['same_packet'])
        self.assertEqual(j['kinds']['secret_leak']['same_packet'], 1)
        self.assertEqual(j['warnings'], [])
        # Without --capture: from the onset (the SYNs at 100.0).
        _, j = self.eval_json(report, labels)
        self.assertEqual({o['agent']: o['latency_s'] for o in j['agents'] if o['kind']},
                         {'10.1.0.20': 0.02, '10.1.0.21': 0.06})

    def test_detection_before_the_secret_is_a_warning(self):
        report, labels, cap = self.write({'10.1.0.20': 100.015, '10.1.0.21': 100.050, '10.1.0.22': None})
        r, j = self.eval_json(report, labels, '--capture', cap)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(j['warnings'], ['10.1.0.20: detected at 100.015, before the packet completing the secret '
                                         '(100.02); latency counted from the onset'])
        agents = {o['agent']: o for o in j['agents']}
        self.assertEqual(agents['10.1.0.20']['latency_s'], 0.015)
        self.assertFalse(agents['10.1.0.20']['same_packet'])
        self.assertTrue(agents['10.1.0.21']['same_packet'])

    def test_nanosecond_capture_and_bad_captures(self):
        report, labels, _ = self.write({'10.1.0.20': 100.5, '10.1.0.21': None, '10.1.0.22': None})
        cap = os.path.join(self.tmp, 'ns.pcap')
        pcap(cap, [(100.0, tcp_frame([10, 1, 0, 20], 1, 0, 0x02)),
                   (100.5, tcp_frame([10, 1, 0, 20], 1, 1, 0x18, b'AKIAABCDEFGHIJKLMNOP'))], nanos=True)
        r, j = self.eval_json(report, labels, '--capture', cap)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue({o['agent']: o for o in j['agents']}['10.1.0.20']['same_packet'])
        self.assertIn('10.1.0.21: secret_leak but no packet of it in the capture carries a secret', j['warnings'])
        bad = os.path.join(self.tmp, 'bad.pcap')
        with open(bad, 'wb') as f:
            f.write(b'\x0a\x0d\x0d\x0a' + bytes(40))
        r = run(EVAL, report, labels, '--capture', bad)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, f'tcpr-eval: {bad}: not a classic pcap file (pcapng is not read here)\n')
        r = run(EVAL, report, labels, '--capture', os.path.join(self.tmp, 'none.pcap'))
        self.assertEqual(r.returncode, 2)
        self.assertIn('none.pcap: No such file or directory', r.stderr)

FAKE_ROUTEGEN = r'''
import argparse, ipaddress, json, os, sys
KINDS = %(kinds)r
p = argparse.ArgumentParser()
for o in ('-o', '--agent-subnet', '--duration', '--anomalies', '--rate'):
    p.add_argument(o)
p.add_argument('--behavior', action='store_true')
p.add_argument('--agents', type=int)
p.add_argument('--seed', type=int)
a = p.parse_args()
if os.environ.get('FAKE_ROUTEGEN_FAIL'):
    sys.exit('The following argument was not expected: --behavior')
counts = {}
for part in a.anomalies.split(','):
    kind, n = part.split('=')
    for k in (KINDS if kind == 'all' else [kind]):
        counts[k] = int(n)
kinds = [k for k in KINDS for _ in range(counts.get(k, 0))]
kinds += [None] * (a.agents - len(kinds))
first = ipaddress.ip_network(a.agent_subnet).network_address + 10
import struct
def frame(src, flags, seq, payload):
    tcp = struct.pack('>HHIIBBHHH', 40000, 80, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, src, bytes([10, 2, 0, 1])) + tcp
    return bytes(12) + b'\x08\x00' + ip
with open(a.o, 'wb') as cap:
    cap.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, kind in enumerate(kinds):
        if kind != 'secret_leak':
            continue
        src = ipaddress.ip_address(first + i).packed
        onset_us = (1700000005 + i) * 1000000
        for ts, f in ((onset_us - 10000, frame(src, 0x02, 99, b'')),
                      (onset_us, frame(src, 0x18, 100, b'key=AKIAABCDEFGHIJKLMNOP'))):
            cap.write(struct.pack('<IIII', ts // 1000000, ts %% 1000000, len(f), len(f)) + f)
open(a.o + '.labels.jsonl', 'w').close()
with open(a.o + '.agents.jsonl', 'w') as f:
    for i, kind in enumerate(kinds):
        f.write(json.dumps({'agent': str(first + i), 'role': 'anomalous' if kind else 'normal',
                            'kind': kind, 'onset': 1700000005.0 + i if kind else None, 'seed': a.seed}) + '\n')
'''

# Stand-in router: beacon is never detected, secret_leak on its onset, every other kind 0.25 s
# (3 ticks) after it; in odd seeds the first normal agent is detected; tick ms p50 = 0.1 x seed,
# max = seed.
FAKE_ROUTED = r'''
import argparse, json, os
p = argparse.ArgumentParser()
p.add_argument('cmd'); p.add_argument('cap')
p.add_argument('--report-dir'); p.add_argument('--agents'); p.add_argument('--workers')
p.add_argument('-q', action='store_true')
a = p.parse_args()
labels = [json.loads(l) for l in open(a.cap + '.agents.jsonl')]
seed = labels[0]['seed']
os.makedirs(os.path.join(a.report_dir, 'out'))
open(os.path.join(a.report_dir, 'out', '0.pcap'), 'wb').write(b'pcap')
first_normal = True
with open(os.path.join(a.report_dir, 'agents.jsonl'), 'w') as ag, \
     open(os.path.join(a.report_dir, 'events.jsonl'), 'w') as ev:
    for l in labels:
        ts = None
        if l['role'] == 'anomalous' and l['kind'] != 'beacon':
            ts = l['onset'] + (0.0 if l['kind'] == 'secret_leak' else 0.25)
        elif l['role'] == 'normal' and first_normal:
            first_normal = False
            ts = 1700000003.0 if seed % 2 else None
        zone = 'TRUSTED' if ts is None else 'QUARANTINED'
        ag.write(json.dumps({'agent': l['agent'], 'zone': zone, 'trust': 0.5, 'score': 0.5,
                             'features': {}, 'first_anomalous_ts': ts}) + '\n')
        if ts is not None:
            ev.write(json.dumps({'ts': ts, 'agent': l['agent'], 'from': 'MONITORED',
                                 'to': 'QUARANTINED', 'score': 1.0, 'reason': 'x'}) + '\n')
json.dump({'argv': [a.agents, a.workers], 'behavior': {'tick_seconds': 0.1, 'ticks': 200,
           'agents': len(labels), 'tick_ms': {'p50': 0.1 * seed, 'p99': 0.5, 'max': float(seed)}}},
          open(os.path.join(a.report_dir, 'summary.json'), 'w'))
'''

SWEEP_TABLE = """\
| agents | precision (mean / worst) | recall (mean / worst) | FPR (mean / worst) | median latency ticks, rate kinds (mean / worst) | secret_leak: on the secret's packet / detected; latency s max | tick ms (p50 / max) |
|---:|---:|---:|---:|---:|---:|---:|
| 10 | 0.900 / 0.800 | 0.900 / 0.800 | 0.100 / 0.200 | 3.0 / 3 | 1 / 1; 0.000 | 0.150 / 2.000 |
| 50 | 0.938 / 0.875 | 0.875 / 0.875 | 0.012 / 0.024 | 3.0 / 3 | 2 / 2; 0.000 | 0.150 / 2.000 |
"""


class SweepWithStandIns(Scratch):
    def setUp(self):
        super().setUp()
        self.build = os.path.join(self.tmp, 'build')
        for rel, body in (('tools/tcp-routegen/tcp-routegen', FAKE_ROUTEGEN % {'kinds': KINDS}),
                          ('src/tcp-routed', FAKE_ROUTED)):
            path = os.path.join(self.build, rel)
            os.makedirs(os.path.dirname(path))
            with open(path, 'w') as f:
                f.write(f'#!{sys.executable}\n{body}')
            os.chmod(path, 0o755)
        self.out = os.path.join(self.tmp, 'out')

    def sweep(self, *args, env=None):
        return run(SWEEP, '--build', self.build, '--agents', '10,50', '--seeds', '2', '--out', self.out,
                   *args, env=env)

    def test_sweep(self):
        # 10 agents (5 kinds a seed): seed 1 = exfil_burst port_scan syn_flood tool_storm beacon,
        #   beacon missed: recall 4/5, 1 of 5 normal detected: FPR 0.2, precision 4/5;
        #   seed 2 = secret_leak lateral prompt_flood exfil_burst port_scan: recall 1, FPR 0, precision 1.
        # 50 agents (all=1: 8 anomalous, 42 normal): recall 7/8 both seeds; seed 1 FPR 1/42 =
        #   0.02381, precision 7/8; seed 2 FPR 0, precision 1.
        # Rate-kind latency 0.25 s = 3 ticks; secret_leak 0 s; tick ms p50 0.1, 0.2 -> 0.15, max 2.
        r = self.sweep()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, SWEEP_TABLE)
        self.assertIn('[1/4] agents 10 seed 1: exfil_burst=1,port_scan=1,syn_flood=1,tool_storm=1,beacon=1', r.stderr)
        self.assertIn('[4/4]   precision 1.000 recall 0.875 FPR 0.000 latency 3 ticks', r.stderr)
        with open(os.path.join(self.out, 'sweep.md')) as f:
            self.assertEqual(f.read(), SWEEP_TABLE)
        with open(os.path.join(self.out, 'sweep.json')) as f:
            doc = json.load(f)
        a10, a50 = (res['aggregate'] for res in doc['results'])
        self.assertEqual(a10['precision'], {'mean': 0.9, 'worst': 0.8, 'seeds': 2})
        self.assertEqual(a10['recall'], {'mean': 0.9, 'worst': 0.8, 'seeds': 2})
        self.assertEqual(a10['fpr'], {'mean': 0.1, 'worst': 0.2, 'seeds': 2})
        self.assertEqual(a10['rate_latency_ticks_median'], {'mean': 3.0, 'worst': 3, 'seeds': 2})
        self.assertEqual(a10['secret_leak_latency_s'], {'median': {'mean': 0.0, 'worst': 0.0, 'seeds': 1}, 'max': 0.0})
        self.assertEqual(a10['secret_leak_same_packet'], {'same': 1, 'tp': 1})
        self.assertEqual(a10['tick_ms'], {'p50': {'mean': 0.15, 'worst': 0.2, 'seeds': 2}, 'max': 2.0})
        self.assertEqual(a10['kinds']['beacon'], {'tp': 0, 'fn': 1, 'early': 0,
                                                  'recall': {'mean': 0.0, 'worst': 0.0, 'seeds': 1},
                                                  'latency_ticks_median': {'mean': None, 'worst': None, 'seeds': 0},
                                                  'latency_s_median': {'mean': None, 'worst': None, 'seeds': 0}})
        self.assertEqual(a10['kinds']['exfil_burst']['tp'], 2)
        self.assertEqual(a10['kinds']['secret_leak']['tp'], 1)
        self.assertEqual(a50['precision'], {'mean': 0.9375, 'worst': 0.875, 'seeds': 2})
        self.assertEqual(a50['recall'], {'mean': 0.875, 'worst': 0.875, 'seeds': 2})
        self.assertEqual(a50['fpr'], {'mean': 0.011905, 'worst': 0.02381, 'seeds': 2})
        self.assertEqual(a50['kinds']['lateral']['tp'], 2)
        self.assertEqual([res['anomalies_per_seed'] for res in doc['results']][1], ['all=1', 'all=1'])
        run_dir = os.path.join(self.out, 'agents-50', 'seed-1')
        self.assertEqual(sorted(os.listdir(run_dir)), ['cap.pcap.agents.jsonl', 'eval.json', 'r'])
        self.assertEqual(sorted(os.listdir(os.path.join(run_dir, 'r'))),
                         ['agents.jsonl', 'events.jsonl', 'summary.json'])
        with open(os.path.join(run_dir, 'r', 'summary.json')) as f:
            self.assertEqual(json.load(f)['argv'], ['10.1.0.0/16', '1'])

    def test_keep(self):
        r = self.sweep('--keep')
        self.assertEqual(r.returncode, 0, r.stderr)
        run_dir = os.path.join(self.out, 'agents-10', 'seed-2')
        self.assertTrue(os.path.exists(os.path.join(run_dir, 'cap.pcap')))
        self.assertTrue(os.path.exists(os.path.join(run_dir, 'r', 'out', '0.pcap')))

    def test_failing_generator(self):
        r = self.sweep(env=dict(os.environ, FAKE_ROUTEGEN_FAIL='1'))
        self.assertEqual(r.returncode, 1)
        self.assertIn('sweep: tcp-routegen failed (exit 1): ', r.stderr)
        self.assertIn('The following argument was not expected: --behavior', r.stderr)

    def test_missing_binary(self):
        os.remove(os.path.join(self.build, 'src', 'tcp-routed'))
        r = self.sweep()
        self.assertEqual(r.returncode, 2)
        self.assertIn(f'sweep: tcp-routed not found at {self.build}/src/tcp-routed', r.stderr)
        self.assertFalse(os.path.exists(self.out))


if __name__ == '__main__':
    unittest.main(verbosity=2)
