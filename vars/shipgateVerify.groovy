// shipgateVerify: a Verify stage after a deploy — `shipgate verify` judges the fresh release on
// Prometheus checks over its bake time and, on a failed verdict, rolls it back through the
// rollbacks its inputs file names (on-failure:) and records it. Call it inside `node { }`, after
// the deploy stage, in the deploy's workspace:
//
//   @Library('shipgate') _
//   node {
//     stage('Deploy') { ... }
//     Map verdict = shipgateVerify(inputs: 'verify.yml', version: env.VERSION, environment: 'production',
//                                  credentials: [[type: 'string', id: 'prometheus-token', variable: 'PROMETHEUS_TOKEN'], [type: 'aws', id: 'aws-deploy']])
//     stage('Promote') { ... }   // runs only when the verdict was passed
//   }
//
// It returns [verdict, failingCheck, evaluations, rolledBack]; a failed or inconclusive verdict
// fails the build (inconclusive passes with allowInconclusive: true). As everywhere in this
// library the script is one constant: the inputs file, version, environment and service reach the
// shell only through the environment.
import groovy.transform.Field

@Field final Map OPTIONS = [
    inputs           : 'string',
    version          : 'string',
    environment      : 'string',
    service          : 'string',
    allowInconclusive: 'boolean',
    stageName        : 'string',
    shipgate         : 'string',
    env              : 'map',
    credentials      : 'list',
]

@Field final String VERIFY_SCRIPT = '''mkdir -p .shipgate
$SHIPGATE_CLI verify --json --inputs "$SHIPGATE_VERIFY_INPUTS" \\
  ${SHIPGATE_VERIFY_VERSION:+--release "$SHIPGATE_VERIFY_VERSION"} \\
  ${SHIPGATE_VERIFY_ENVIRONMENT:+--environment "$SHIPGATE_VERIFY_ENVIRONMENT"} \\
  ${SHIPGATE_VERIFY_SERVICE:+--service "$SHIPGATE_VERIFY_SERVICE"} \\
  $SHIPGATE_VERIFY_FLAGS > "$SHIPGATE_VERIFY_RESULT"'''

def call(Map options = [:]) {
    options = options ?: [:]
    List problems = shipgatePipeline.checkOptions('shipgateVerify', options, OPTIONS)
    if (!options.inputs) problems << 'name the verify inputs file: inputs: \'verify.yml\' (prometheus, checks, on-failure — the verify step\'s inputs)'
    if (problems) error(shipgatePipeline.formatProblems('shipgateVerify', problems))
    Map cfg = shipgatePipeline.withDefaults(options, shipgatePipeline.envSnapshot())
    Map result
    withEnv(shipgatePipeline.baseEnv(cfg, env.SHIPGATE_SECRETS) + verifyEnv(cfg)) {
        withCredentials(shipgatePipeline.credentialBindings(cfg.credentials)) {
            stage(cfg.stageName ?: 'Verify') {
                int code = sh(label: 'shipgate verify', returnStatus: true, script: VERIFY_SCRIPT)
                String text = fileExists('.shipgate/verify-result.json') ? readFile('.shipgate/verify-result.json') : ''
                result = verdictOf(code, text ? readJSON(text: text) : null)
                if (result.problem) error("shipgateVerify: ${result.problem}")
            }
        }
    }
    return result.subMap(['verdict', 'failingCheck', 'evaluations', 'rolledBack'])
}

/** The step's own variables (values only ever through the environment). */
@NonCPS
List verifyEnv(Map cfg) {
    List vars = [
        "SHIPGATE_VERIFY_INPUTS=${cfg.inputs}",
        "SHIPGATE_VERIFY_VERSION=${cfg.version ?: ''}",
        "SHIPGATE_VERIFY_ENVIRONMENT=${cfg.environment ?: ''}",
        "SHIPGATE_VERIFY_SERVICE=${cfg.service ?: ''}",
        "SHIPGATE_VERIFY_FLAGS=${cfg.allowInconclusive ? '--allow-inconclusive' : ''}",
        'SHIPGATE_VERIFY_RESULT=.shipgate/verify-result.json',
    ]
    return vars.collect { it.toString() }
}

/** What the exit code and the JSON say: the result, and the problem that fails the build (if any). */
@NonCPS
Map verdictOf(int code, Map json) {
    Map result = [verdict: json?.verdict, failingCheck: json?.failingCheck, evaluations: json?.evaluations ?: 0, rolledBack: json?.rolledBack ?: false]
    if (code == 0) return result
    // the CLI's message already says what happened ("verification failed: check …; codedeploy rolled back")
    String message = json?.error?.message?.toString()
    if (json?.verdict == 'failed') {
        result.problem = message ?: 'verification failed'
    } else if (json?.verdict == 'inconclusive') {
        result.problem = "${message ?: 'verification inconclusive'}\n  hint: no number is not a pass; allowInconclusive: true lets it through".toString()
    } else {
        result.problem = "shipgate verify exited ${code}${message ? ": ${message}" : ' (see the log above)'}".toString()
    }
    return result
}
