// shipgateRollback: the body of a parameterised rollback job.
//
//   @Library('shipgate') _
//   shipgateRollback(file: 'shipgate.yml', step: 'rollback', environments: ['staging', 'production'])
//
// The job takes VERSION (what to go back to), ENVIRONMENT and REASON — from "Build with
// Parameters", or from the Slack app's Rollback button (`POST <job>/buildWithParameters`). They
// reach the rollback step only through the environment (`$VERSION`, `$ENVIRONMENT`, `$REASON`,
// or `${{ env.VERSION }}` in shipgate.yml), never spliced into a script, so a REASON such as
// `"; rm -rf /` is only ever text. The rollback is then recorded in the Slack app as a
// `rolled-back` deployment of VERSION, which puts VERSION back as what runs there.
import groovy.transform.Field

@Field final Map OPTIONS = [
    file                 : 'string',
    step                 : 'string',
    command              : 'string',
    environments         : 'list',
    service              : 'string',
    shipgate             : 'string',
    label                : 'string',
    checkout             : 'boolean',
    env                  : 'map',
    credentials          : 'list',
    appUrl               : 'string',
    appTokenCredentialsId: 'string',
]

def call(Map options = [:]) {
    options = options ?: [:]
    List problems = shipgatePipeline.checkOptions('shipgateRollback', options, OPTIONS)
    if (!options.step && !options.command) problems << 'name the rollback: step: \'<step in shipgate.yml>\' or command: \'<shell command>\''
    if (options.step && options.command) problems << 'options step and command: give one of them, not both'
    if (problems) error(shipgatePipeline.formatProblems('shipgateRollback', problems))
    Map cfg = shipgatePipeline.withDefaults(options, shipgatePipeline.envSnapshot())
    List environments = cfg.environments ?: ['staging', 'production']

    properties([parameters([
        string(name: 'VERSION', defaultValue: '', trim: true, description: 'the version to roll back to (as the deployment records show it)'),
        choice(name: 'ENVIRONMENT', choices: environments, description: 'where to roll back'),
        string(name: 'REASON', defaultValue: '', trim: true, description: 'why: kept with the deployment record and shown in Slack'),
    ])])

    Map request = rollbackRequest(params, environments)
    if (request.problems) error(shipgatePipeline.formatProblems('shipgateRollback', request.problems))
    cfg.environment = request.environment
    cfg.version = request.version
    currentBuild.description = "${request.environment} → ${request.version}"

    shipgatePipeline.onAgent(cfg) {
        if (cfg.checkout) checkout scm
        List vars = shipgatePipeline.baseEnv(cfg, env.SHIPGATE_SECRETS) +
            ["VERSION=${request.version}", "ENVIRONMENT=${request.environment}", "REASON=${request.reason}", "SHIPGATE_ROLLBACK_STEP=${cfg.step ?: ''}"]
        withEnv(vars) {
            withCredentials(shipgatePipeline.credentialBindings(cfg.credentials)) {
                stage('Rollback') {
                    if (cfg.step) {
                        if (!cfg.service) {
                            Map plan = readJSON(text: sh(label: 'shipgate plan --json', returnStdout: true, script: shipgatePipeline.PLAN_SCRIPT))
                            cfg.service = plan.pipeline.toString()
                            String problem = shipgatePipeline.unknownStep(plan, 'step', cfg.step)
                            if (problem) error("shipgateRollback: ${problem}")
                        }
                        sh(label: "shipgate step ${cfg.step}", script: shipgatePipeline.STEP_SCRIPT)
                    } else {
                        if (!cfg.service) error('shipgateRollback: with command:, also give service: (the name deployment records use)')
                        sh(label: 'rollback command', script: cfg.command)
                    }
                }
                shipgatePipeline.recordDeployment(cfg, 'rolled-back')
            }
        }
    }
}

/** VERSION / ENVIRONMENT / REASON from the job's parameters, checked. */
@NonCPS
Map rollbackRequest(Map parameters, List environments) {
    List problems = []
    String version = (parameters?.VERSION ?: '').toString().trim()
    String environment = (parameters?.ENVIRONMENT ?: '').toString().trim()
    String reason = (parameters?.REASON ?: '').toString().trim()
    List allowed = environments.collect { it.toString() }
    if (!version) {
        problems << 'parameter VERSION is empty: give the version to roll back to\n  hint: a new job learns its parameters on its first build; then use Build with Parameters'
    }
    if (!(environment in allowed)) {
        problems << "parameter ENVIRONMENT \"${environment}\" is not one of the environments${environment ? shipgatePipeline.didYouMean(environment, allowed) : ''}\n  allowed: ${allowed.join(', ')}".toString()
    }
    return [version: version, environment: environment, reason: reason ?: "rollback to ${version}".toString(), problems: problems]
}
