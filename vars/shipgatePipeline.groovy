// shipgatePipeline: runs a shipgate.yml pipeline as Jenkins stages.
//
//   @Library('shipgate') _
//   shipgatePipeline(file: 'shipgate.yml')
//
// The library makes no pipeline decision of its own: `shipgate plan --json` says which steps run
// together, and every step runs as `shipgate run --only <step>` in its own branch of a real
// `parallel`, so Jenkins shows each step as a branch with its own log and JUnit results. Around
// that it adds what only Jenkins can do: an approval that waits in an `input` step the Slack app
// answers over REST, a Rollback stage when a deploy stage fails, credentials bound with
// `withCredentials` (and masked by shipgate too), and the deployment record in the Slack app.
//
// Two rules hold everywhere below:
//   * every `sh` script is a constant string; values (step ids, file names, versions, tokens)
//     reach the shell only through the environment, so Groovy never interpolates a secret or
//     anything a user typed into a shell command;
//   * pure decisions (option checks, the stage layout, request bodies) are @NonCPS methods over
//     plain data, so they run as ordinary Groovy and never hold a step.
import groovy.json.JsonOutput
import groovy.transform.Field
import org.jenkinsci.plugins.workflow.steps.FlowInterruptedException

/** The `input` id the Slack app proceeds or aborts. Jenkins capitalises an input id's first
 *  letter in its URL, so the id starts with a capital to keep `.../input/ShipgateApproval/` exact. */
@Field final String INPUT_ID = 'ShipgateApproval'

/** Options of shipgatePipeline: name → type. The README documents each one. */
@Field final Map OPTIONS = [
    file                 : 'string',
    shipgate             : 'string',
    runner               : 'string',
    label                : 'string',
    checkout             : 'boolean',
    failFast             : 'boolean',
    maxParallel          : 'integer',
    env                  : 'map',
    credentials          : 'list',
    deploy               : 'list',
    rollback             : 'string',
    rollbackCommand      : 'string',
    approval             : 'map-or-boolean',
    environment          : 'string',
    service              : 'string',
    version              : 'string',
    versionFrom          : 'string',
    appUrl               : 'string',
    appTokenCredentialsId: 'string',
    rollbackJobUrl       : 'string',
]

@Field final Map APPROVAL_OPTIONS = [timeout: 'string', message: 'string', summary: 'string', submitter: 'string', requester: 'string']

/** Credential binding types and the keys each takes (`id` and `type` always). */
@Field final Map CREDENTIAL_KEYS = [
    string          : [required: ['variable'], optional: []],
    file            : [required: ['variable'], optional: []],
    usernamePassword: [required: ['usernameVariable', 'passwordVariable'], optional: []],
    aws             : [required: [], optional: ['accessKeyVariable', 'secretKeyVariable']],
]

// The shell side. `$SHIPGATE_CLI` is word-split on purpose (`npx shipgate`, `node path/to/shipgate.js`).
@Field final String PLAN_SCRIPT = '$SHIPGATE_CLI -f "$SHIPGATE_FILE" plan --json'
// The plan starts a build: the steps' report directories of an earlier build in this workspace go,
// so the build's merged report.html shows this build's steps only.
@Field final String FIRST_PLAN_SCRIPT = 'rm -rf "$SHIPGATE_REPORTS"\n' + PLAN_SCRIPT
@Field final String RUN_SCRIPT = '''rm -rf "$SHIPGATE_REPORT_DIR"
$SHIPGATE_CLI -f "$SHIPGATE_FILE" run --only "$SHIPGATE_STEP" --report-dir "$SHIPGATE_REPORT_DIR" --reporter plain $SHIPGATE_RUN_FLAGS'''
// `runner:`: the shipgate repository's committed actions bundle at a pinned ref, whose
// actions/shared/dist/shipgate.mjs is the whole CLI with nothing to install (no package name).
@Field final String RUNNER_SCRIPT = '''rm -rf "$SHIPGATE_RUNNER_DIR"
git clone --quiet --depth 1 --branch "$SHIPGATE_RUNNER_REF" "https://github.com/$SHIPGATE_RUNNER_REPO.git" "$SHIPGATE_RUNNER_DIR"'''
@Field final String STEP_SCRIPT = '$SHIPGATE_CLI -f "$SHIPGATE_FILE" step "$SHIPGATE_ROLLBACK_STEP"'
@Field final String REPORT_SCRIPT = '$SHIPGATE_CLI report "$SHIPGATE_REPORTS" -o "$SHIPGATE_REPORTS"'
// The token goes to curl on stdin as a config line (printf is a shell builtin), so it is in no
// process's argument list and, with `set +x`, in no trace line.
@Field final String POST_SCRIPT = '''set +x
printf 'header = "Authorization: Bearer %s"\\n' "$SHIPGATE_API_TOKEN" | curl --silent --show-error --fail --max-time 30 --retry 3 --retry-delay 2 --config - --header 'Content-Type: application/json' --data-binary "@$SHIPGATE_REQUEST_FILE" "${SHIPGATE_APP_URL%/}$SHIPGATE_API_PATH"'''

def call(Map options = [:]) {
    Map cfg = configure('shipgatePipeline', options ?: [:], OPTIONS)
    onAgent(cfg) {
        runPipeline(cfg)
    }
}

/** Checks options (every problem at once, each with a did-you-mean and the allowed list) and applies defaults. */
def configure(String stepName, Map options, Map spec) {
    List problems = checkOptions(stepName, options, spec)
    if (problems) error(formatProblems(stepName, problems))
    return withDefaults(options, envSnapshot())
}

def onAgent(Map cfg, Closure body) {
    if (cfg.label) {
        node(cfg.label) { body() }
    } else {
        node { body() }
    }
}

def runPipeline(Map cfg) {
    if (cfg.checkout) checkout scm
    if (cfg.runner) cfg.shipgate = fetchRunner(cfg.runner)
    withEnv(baseEnv(cfg, env.SHIPGATE_SECRETS)) {
        withCredentials(credentialBindings(cfg.credentials)) {
            Map plan
            stage('Plan') {
                withEnv(["SHIPGATE_REPORTS=${reportsDirOf(cfg)}"]) {
                    plan = readJSON(text: sh(label: 'shipgate plan --json', returnStdout: true, script: FIRST_PLAN_SCRIPT))
                }
            }
            Map layout = layoutStages(plan, cfg)
            if (layout.problems) error(formatProblems('shipgatePipeline', layout.problems))
            cfg.needs = layout.needs
            if (!cfg.service) cfg.service = plan.pipeline.toString()
            Map results = Collections.synchronizedMap([:])
            try {
                runStages(cfg, layout.stages, results)
            } finally {
                // also after a failure or an abort: that is when people open the report
                publishReport(cfg)
            }
        }
    }
}

/** The stages in order: the approval before the first deploy level, a rollback when a deploy level fails. */
def runStages(Map cfg, List stages, Map results) {
    boolean approved = false
    boolean deployed = false
    for (int i = 0; i < stages.size(); i++) {
        Map level = stages[i]
        if (level.deploy && cfg.approval && !approved) {
            approve(cfg)
            approved = true
        }
        try {
            stage(level.name) {
                runLevel(cfg, level.steps, results)
            }
        } catch (err) {
            if (level.deploy) {
                rollbackAfter(cfg, failedSteps(level.steps, results))
                // A failed deploy, rolled back or not, leaves the previous release running
                // (or an unknown state the build's failure already reports).
                recordDeployment(cfg, 'failed')
            }
            throw err
        }
        if (level.deploy && anySucceeded(level.steps, results)) deployed = true
    }
    if (deployed) recordDeployment(cfg, 'succeeded')
}

/**
 * One report.html for the whole build — every step's rows on one time axis, failures first, a link
 * to each log — merged by `shipgate report` from the steps' report directories. It is archived
 * with the build's artifacts, and published as the build's report page when the HTML Publisher
 * plugin is installed. A failure here is a warning: the build's own result is what counts.
 */
def publishReport(Map cfg) {
    String dir = reportsDirOf(cfg)
    try {
        if (!fileExists(dir)) return
        int status = 0
        withEnv(["SHIPGATE_REPORTS=${dir}"]) {
            status = sh(label: 'shipgate report', returnStatus: true, script: REPORT_SCRIPT)
        }
        if (status != 0) {
            echo "shipgate: warning: could not write the build's report.html (shipgate report exit ${status})"
            return
        }
        archiveArtifacts(artifacts: reportArtifacts(dir), allowEmptyArchive: true)
        try {
            publishHTML(target: [reportName: 'shipgate', reportDir: dir, reportFiles: 'report.html', reportTitles: 'shipgate run',
                                 keepAll: true, alwaysLinkToLastBuild: true, allowMissing: false])
        } catch (NoSuchMethodError e) {
            echo "shipgate: report.html is archived with the build's artifacts (${dir}/report.html); install the HTML Publisher plugin to get it as the build's report page"
        }
    } catch (FlowInterruptedException e) {
        throw e
    } catch (e) {
        echo "shipgate: warning: could not publish the report (${e.message}); the build result is unchanged"
    }
}

/** Clones the runner (`owner/repo@ref`) beside the workspace; returns the command that runs its CLI. */
def fetchRunner(String runner) {
    Map source = runnerSource(runner)
    if (!source) error("shipgatePipeline: runner '${runner}' is not owner/repo@ref\n  hint: e.g. runner: 'shipgate/shipgate@v0.1.0' (a fork names its own repository)")
    // beside the workspace, not in it: the checkout's git status and cache globs never see it
    String dir = "${env.WORKSPACE_TMP ?: "${env.WORKSPACE}@tmp"}/shipgate-runner"
    withEnv(["SHIPGATE_RUNNER_REPO=${source.repo}", "SHIPGATE_RUNNER_REF=${source.ref}", "SHIPGATE_RUNNER_DIR=${dir}"]) {
        sh(label: "shipgate runner ${source.repo}@${source.ref}", script: RUNNER_SCRIPT)
    }
    return "node ${dir}/actions/shared/dist/shipgate.mjs".toString()
}

/** `owner/repo@ref` → [repo, ref]; null when it is not that. */
@NonCPS
Map runnerSource(String runner) {
    def m = runner =~ /^([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)@(\w[\w.\/-]*)$/
    return m.matches() && !runner.contains('..') ? [repo: m.group(1), ref: m.group(2)] : null
}

/** One DAG level: a single step runs in the stage; several run as parallel branches. */
def runLevel(Map cfg, List ids, Map results) {
    if (ids.size() == 1) {
        runStep(cfg, ids[0], results)
        return
    }
    Map branches = [:]
    for (int i = 0; i < ids.size(); i++) {
        String id = ids[i]
        branches[id] = { runStep(cfg, id, results) }
    }
    branches.failFast = cfg.failFast
    parallel branches
}

def runStep(Map cfg, String id, Map results) {
    // `shipgate run --only` would restore a skipped need's outputs from an earlier build's
    // success; in one `shipgate run` the dependent of a skipped step is skipped, so here too.
    String blocked = skippedNeed(cfg.needs[id] ?: [], results)
    if (blocked) {
        echo "shipgate: ${id} skipped: needs ${blocked}, which was skipped"
        results[id] = 'skipped'
        return
    }
    String reportDir = reportDirOf(cfg, id)
    withEnv(["SHIPGATE_STEP=${id}", "SHIPGATE_REPORT_DIR=${reportDir}"]) {
        try {
            sh(label: "shipgate run --only ${id}", script: RUN_SCRIPT)
            String report = "${reportDir}/report.json"
            results[id] = fileExists(report) ? stepOutcome(readJSON(file: report)) : 'success'
        } catch (err) {
            results[id] = 'failure'
            throw err
        } finally {
            // also on failure: the failing step's test case carries its error and log tail
            junit(testResults: "${reportDir}/junit.xml", allowEmptyResults: true)
        }
    }
}

/** Asks the Slack app (when configured), then waits in `input` until it proceeds or aborts, or the timeout. */
def approve(Map cfg) {
    stage('Approval') {
        String version = resolveVersion(cfg)
        String message = cfg.approval.message ?: "Deploy ${cfg.service} ${version} to ${cfg.environment}?"
        if (cfg.appUrl) {
            if (!env.BUILD_URL) {
                error('shipgatePipeline: approval needs BUILD_URL, which Jenkins sets only when its URL is configured\n  hint: Manage Jenkins → System → Jenkins URL')
            }
            Map body = approvalRequest(cfg, version, envSnapshot() + [BUILD_START: currentBuild.startTimeInMillis.toString()])
            String answer = postToApp(cfg, '/api/approvals', body, 'ask the Slack app for approval', true)
            Map created = readJSON(text: answer)
            echo "shipgate: approval ${created.id} for ${cfg.service} ${version} → ${cfg.environment} is waiting in Slack (until ${created.expiresAt}); it can also be answered here"
        } else {
            echo 'shipgate: no SHIPGATE_APP_URL / appUrl: approve or abort this build in Jenkins'
        }
        Map question = [id: INPUT_ID, message: message, ok: 'Deploy']
        if (cfg.approval.submitter) question.submitter = cfg.approval.submitter
        try {
            timeout(time: cfg.approval.timeoutSeconds, unit: 'SECONDS') {
                input(question)
            }
        } catch (FlowInterruptedException e) {
            currentBuild.result = 'ABORTED'
            echo "shipgate: ${describeInterruption(e, cfg.approval.timeout)} — nothing was deployed"
            throw e
        }
    }
}

/** The Rollback stage: the pipeline's rollback step (`shipgate step <id>`) or command. True when it succeeded. */
def rollbackAfter(Map cfg, List failed) {
    if (!cfg.rollback && !cfg.rollbackCommand) {
        echo "shipgate: ${failed.join(', ')} failed and no rollback is configured (option rollback: '<step>' or rollbackCommand)"
        return false
    }
    boolean ok = false
    stage('Rollback') {
        String version = resolveVersion(cfg)
        List vars = ["ENVIRONMENT=${cfg.environment}", "REASON=deploy failed: ${failed.join(', ')}", "FAILED_VERSION=${version}",
                     "SHIPGATE_FAILED_STEPS=${failed.join(',')}", "SHIPGATE_ROLLBACK_STEP=${cfg.rollback ?: ''}"]
        withEnv(vars) {
            catchError(buildResult: 'FAILURE', stageResult: 'FAILURE') {
                if (cfg.rollback) {
                    sh(label: "shipgate step ${cfg.rollback}", script: STEP_SCRIPT)
                } else {
                    sh(label: 'rollback command', script: cfg.rollbackCommand)
                }
                ok = true
            }
        }
        echo(ok ? 'shipgate: rolled back' : 'shipgate: the rollback failed — check the environment by hand')
    }
    return ok
}

/** POST /api/deployments. A failure to record is a warning: the deploy itself is what counts. */
def recordDeployment(Map cfg, String outcome) {
    if (!cfg.appUrl) return
    try {
        Map body = deploymentRecord(cfg, resolveVersion(cfg), outcome, envSnapshot())
        postToApp(cfg, '/api/deployments', body, "record the deployment (${outcome}) in the Slack app", false)
    } catch (FlowInterruptedException e) {
        throw e
    } catch (e) {
        // e.g. the token credential is missing; after a failed deploy this must not hide its error
        echo "shipgate: warning: could not record the deployment (${e.message}); the build result is unchanged"
    }
}

/**
 * POSTs `body` to the Slack app with the API token from Jenkins credentials. Returns the response
 * body; when `required` is false a failure only prints a warning and returns null.
 */
def postToApp(Map cfg, String path, Map body, String label, boolean required) {
    String requestFile = "${cfg.stateRoot}/.shipgate/jenkins/request-${path.tokenize('/').last()}.json"
    writeFile(file: requestFile, text: JsonOutput.toJson(body))
    String answer = null
    withCredentials([string(credentialsId: cfg.appTokenCredentialsId, variable: 'SHIPGATE_API_TOKEN')]) {
        withEnv(["SHIPGATE_REQUEST_FILE=${requestFile}", "SHIPGATE_API_PATH=${path}"]) {
            if (required) {
                answer = sh(label: label, returnStdout: true, script: POST_SCRIPT)
            } else {
                int status = sh(label: label, returnStatus: true, script: POST_SCRIPT)
                if (status != 0) echo "shipgate: warning: could not ${label} (curl exit ${status}); the build result is unchanged"
            }
        }
    }
    return answer
}

/** The version approvals and deployment records carry: `version`, else a step's output (`versionFrom`), else the commit. */
def resolveVersion(Map cfg) {
    if (cfg.resolvedVersion) return cfg.resolvedVersion
    String version = cfg.version
    if (!version && cfg.versionFrom) {
        List parts = cfg.versionFrom.tokenize('.')
        String file = "${cfg.stateRoot}/.shipgate/outputs/${parts[0]}.json"
        if (fileExists(file)) {
            def recorded = readJSON(file: file)
            def value = recorded?.outputs?.get(parts[1])
            if (value) version = value.toString()
        }
        if (!version) echo "shipgate: warning: versionFrom ${cfg.versionFrom}: no such output recorded yet; using ${cfg.defaultVersion}"
    }
    cfg.resolvedVersion = version ?: cfg.defaultVersion
    return cfg.resolvedVersion
}

// ---------------------------------------------------------------------------------------------
// Pure parts: plain data in, plain data out.

/** The build's environment as a plain map (what the pure parts read). */
@NonCPS
Map envSnapshot() {
    Map snapshot = [:]
    for (String name in ['BUILD_URL', 'BUILD_TAG', 'BUILD_NUMBER', 'JOB_URL', 'GIT_COMMIT', 'SHIPGATE_VERSION', 'SHIPGATE_APP_URL', 'SHIPGATE_CLI', 'SHIPGATE_REPORT_URL', 'BUILD_USER_ID', 'CHANGE_AUTHOR']) {
        def value = env.getProperty(name)
        if (value) snapshot[name] = value.toString()
    }
    return snapshot
}

/** Problems with `options` against `spec` (name → type): unknown names with a did-you-mean, wrong types. */
@NonCPS
List checkOptions(String stepName, Map options, Map spec) {
    List problems = []
    List allowed = spec.keySet().collect { it.toString() }
    options.each { key, value ->
        String name = key.toString()
        if (!spec.containsKey(name)) {
            problems << "unknown option \"${name}\"${didYouMean(name, allowed)}\n  allowed: ${allowed.join(', ')}".toString()
            return
        }
        String wanted = spec[name]
        if (!typeMatches(wanted, value)) {
            problems << "option ${name} must be ${describeType(wanted)}, got ${describeValue(value)}".toString()
            return
        }
        if (name == 'approval' && value instanceof Map) problems.addAll(checkApproval(value))
        if (name == 'credentials') problems.addAll(checkCredentials(value))
        if (name == 'maxParallel' && value < 1) problems << "option maxParallel must be ≥ 1, got ${value}".toString()
        if (name in ['deploy', 'environments'] && value.any { !(it instanceof CharSequence) }) problems << "option ${name} must be a list of step names (strings)".toString()
    }
    if (options.rollback && options.rollbackCommand) problems << 'options rollback and rollbackCommand: give one of them, not both'
    if (options.versionFrom && !(options.versionFrom ==~ /[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/)) {
        problems << "option versionFrom must be \"<step>.<output>\", like \"version.version\", got \"${options.versionFrom}\"".toString()
    }
    return problems
}

@NonCPS
List checkApproval(Map approval) {
    List problems = []
    List allowed = APPROVAL_OPTIONS.keySet().collect { it.toString() }
    approval.each { key, value ->
        String name = key.toString()
        if (!APPROVAL_OPTIONS.containsKey(name)) {
            problems << "unknown approval option \"${name}\"${didYouMean(name, allowed)}\n  allowed: ${allowed.join(', ')}".toString()
        } else if (!(value instanceof CharSequence)) {
            problems << "approval.${name} must be a string, got ${describeValue(value)}".toString()
        }
    }
    if (approval.timeout instanceof CharSequence && parseDuration(approval.timeout.toString()) == null) {
        problems << "approval.timeout must be a duration like 90s, 30m or 1h30m, got \"${approval.timeout}\"".toString()
    }
    return problems
}

@NonCPS
List checkCredentials(List credentials) {
    List problems = []
    List types = CREDENTIAL_KEYS.keySet().collect { it.toString() }
    credentials.eachWithIndex { entry, i ->
        if (!(entry instanceof Map)) {
            problems << "credentials[${i}] must be a map like [type: 'string', id: 'sonar-token', variable: 'SONAR_TOKEN'], got ${describeValue(entry)}".toString()
            return
        }
        String type = entry.type?.toString()
        if (!CREDENTIAL_KEYS.containsKey(type)) {
            problems << "credentials[${i}].type \"${type}\" is not a binding type${type ? didYouMean(type, types) : ''}\n  allowed: ${types.join(', ')}".toString()
            return
        }
        if (!entry.id) problems << "credentials[${i}] (${type}) needs id: the Jenkins credentials id".toString()
        Map keys = CREDENTIAL_KEYS[type]
        List known = ['type', 'id'] + keys.required + keys.optional
        entry.each { k, v ->
            String name = k.toString()
            if (!(name in known)) problems << "credentials[${i}] (${type}): unknown key \"${name}\"${didYouMean(name, known)}\n  allowed: ${known.join(', ')}".toString()
            else if (name != 'type' && !(v ==~ (name == 'id' ? /.+/ : /[A-Za-z_][A-Za-z0-9_]*/))) problems << "credentials[${i}].${name} must be ${name == 'id' ? 'a credentials id' : 'an environment variable name'}, got ${describeValue(v)}".toString()
        }
        for (String k in keys.required) if (!entry.containsKey(k)) problems << "credentials[${i}] (${type}) needs ${k}".toString()
    }
    return problems
}

@NonCPS
boolean typeMatches(String type, value) {
    switch (type) {
        case 'string': return value instanceof CharSequence
        case 'boolean': return value instanceof Boolean
        case 'integer': return value instanceof Integer || value instanceof Long
        case 'list': return value instanceof List
        case 'map': return value instanceof Map
        case 'map-or-boolean': return value instanceof Map || value instanceof Boolean
        default: return false
    }
}

@NonCPS
String describeType(String type) {
    return [string: 'a string', boolean: 'true or false', integer: 'a whole number', list: 'a list', map: 'a map', 'map-or-boolean': 'a map ([timeout: \'1h\']) or true/false'][type] ?: type
}

@NonCPS
String describeValue(value) {
    if (value == null) return 'null'
    if (value instanceof CharSequence) return "\"${value}\" (a string)".toString()
    return "${value} (${value.getClass().simpleName})".toString()
}

@NonCPS
String formatProblems(String stepName, List problems) {
    return problems.collect { "${stepName}: ${it}" }.join('\n')
}

/** ` — did you mean "x"?` when a known name is within a third of the typed one's length in edits. */
@NonCPS
String didYouMean(String typed, List known) {
    String best = null
    int bestDistance = Integer.MAX_VALUE
    for (String candidate in known) {
        int d = editDistance(typed.toLowerCase(), candidate.toLowerCase())
        if (d < bestDistance) {
            bestDistance = d
            best = candidate
        }
    }
    return best != null && bestDistance <= Math.max(2, (int) (typed.length() / 3)) ? " — did you mean \"${best}\"?".toString() : ''
}

@NonCPS
int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1]
    for (int j = 0; j <= b.length(); j++) previous[j] = j
    for (int i = 1; i <= a.length(); i++) {
        int[] current = new int[b.length() + 1]
        current[0] = i
        for (int j = 1; j <= b.length(); j++) {
            int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1
            current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost)
        }
        previous = current
    }
    return previous[b.length()]
}

/** Seconds in `90s`, `30m`, `1h30m`; null when it is not such a duration. */
@NonCPS
Integer parseDuration(String text) {
    def m = text.trim() =~ /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/
    if (!text.trim() || !m.matches()) return null
    int seconds = (m.group(1) ? m.group(1).toInteger() * 3600 : 0) + (m.group(2) ? m.group(2).toInteger() * 60 : 0) + (m.group(3) ? m.group(3).toInteger() : 0)
    return seconds > 0 ? seconds : null
}

@NonCPS
Map withDefaults(Map options, Map environment) {
    Map cfg = [:]
    cfg.putAll(options)
    cfg.file = cfg.file ?: 'shipgate.yml'
    cfg.shipgate = cfg.shipgate ?: environment.SHIPGATE_CLI ?: 'shipgate'
    cfg.checkout = cfg.containsKey('checkout') ? cfg.checkout : true
    cfg.failFast = cfg.containsKey('failFast') ? cfg.failFast : true
    cfg.credentials = cfg.credentials ?: []
    cfg.env = cfg.env ?: [:]
    cfg.environment = cfg.environment ?: 'production'
    cfg.appUrl = cfg.appUrl ?: environment.SHIPGATE_APP_URL
    cfg.appTokenCredentialsId = cfg.appTokenCredentialsId ?: 'shipgate-api-token'
    String dir = cfg.file.contains('/') ? cfg.file.substring(0, cfg.file.lastIndexOf('/')) : '.'
    cfg.stateRoot = dir ?: '.'
    if (cfg.approval == true) cfg.approval = [:]
    if (cfg.approval instanceof Map) {
        Map approval = [:]
        approval.putAll(cfg.approval)
        approval.timeout = approval.timeout ?: '1h'
        approval.timeoutSeconds = parseDuration(approval.timeout.toString())
        cfg.approval = approval
    } else {
        cfg.approval = null
    }
    String commit = environment.GIT_COMMIT ? environment.GIT_COMMIT.take(12) : null
    cfg.defaultVersion = environment.SHIPGATE_VERSION ?: commit ?: environment.BUILD_TAG ?: "build-${environment.BUILD_NUMBER ?: 'local'}".toString()
    return cfg
}

/** The environment every shipgate call sees. Credential variables join SHIPGATE_SECRETS, so shipgate masks them too. */
@NonCPS
List baseEnv(Map cfg, String existingSecrets) {
    List names = []
    if (existingSecrets) names.addAll(existingSecrets.tokenize(','))
    for (String name in secretNames(cfg.credentials)) if (!(name in names)) names << name
    List vars = ["SHIPGATE_CLI=${cfg.shipgate}", "SHIPGATE_FILE=${cfg.file}", "SHIPGATE_RUN_FLAGS=${cfg.maxParallel ? "-j ${cfg.maxParallel}" : ''}"]
    if (names) vars << "SHIPGATE_SECRETS=${names.join(',')}"
    if (cfg.appUrl) vars << "SHIPGATE_APP_URL=${cfg.appUrl}"
    cfg.env.each { k, v -> vars << "${k}=${v}" }
    return vars.collect { it.toString() }
}

@NonCPS
List secretNames(List credentials) {
    List names = []
    for (Map c in credentials) {
        switch (c.type) {
            case 'usernamePassword': names << c.usernameVariable << c.passwordVariable; break
            case 'aws': names << (c.accessKeyVariable ?: 'AWS_ACCESS_KEY_ID') << (c.secretKeyVariable ?: 'AWS_SECRET_ACCESS_KEY'); break
            default: names << c.variable
        }
    }
    return names.collect { it.toString() }
}

/** `withCredentials` bindings for the credentials option (the aws type needs the CloudBees AWS Credentials plugin). */
def credentialBindings(List credentials) {
    List bindings = []
    for (int i = 0; i < credentials.size(); i++) {
        Map c = credentials[i]
        if (c.type == 'string') bindings << string(credentialsId: c.id, variable: c.variable)
        else if (c.type == 'file') bindings << file(credentialsId: c.id, variable: c.variable)
        else if (c.type == 'usernamePassword') bindings << usernamePassword(credentialsId: c.id, usernameVariable: c.usernameVariable, passwordVariable: c.passwordVariable)
        else bindings << [$class: 'AmazonWebServicesCredentialsBinding', credentialsId: c.id, accessKeyVariable: c.accessKeyVariable ?: 'AWS_ACCESS_KEY_ID', secretKeyVariable: c.secretKeyVariable ?: 'AWS_SECRET_ACCESS_KEY']
    }
    return bindings
}

/**
 * Jenkins stages from `shipgate plan --json`: one per DAG level (the rollback step is left out:
 * it runs only in the Rollback stage), marked `deploy` when it holds a deploy step. Also the
 * problems with options that name steps (deploy, rollback, versionFrom), with did-you-means.
 */
@NonCPS
Map layoutStages(Map plan, Map cfg) {
    Map steps = plan.steps
    // in plan order (level by level, file order within one), whatever order the JSON map keeps
    List ids = plan.levels.flatten().collect { it.toString() }
    List problems = []
    List deploy
    if (cfg.deploy != null) {
        deploy = cfg.deploy.collect { it.toString() }
        for (String d in deploy) if (!(d in ids)) problems << unknownStep(plan, 'deploy', d)
    } else {
        deploy = ids.findAll { id -> id == 'deploy' || id.startsWith('deploy-') || (steps[id].uses?.toString() in ['codedeploy', 'codepipeline']) }
    }
    if (cfg.rollback && !(cfg.rollback in ids)) problems << unknownStep(plan, 'rollback', cfg.rollback)
    if (cfg.rollback && cfg.rollback in deploy) problems << "rollback: \"${cfg.rollback}\" is also a deploy step".toString()
    if (cfg.versionFrom) {
        String from = cfg.versionFrom.tokenize('.')[0]
        if (!(from in ids)) problems << unknownStep(plan, 'versionFrom', from)
    }
    List stages = []
    int n = 0
    for (level in plan.levels) {
        List names = level.collect { it.toString() }.findAll { it != cfg.rollback }
        if (!names) continue
        n += 1
        boolean isDeploy = names.any { it in deploy }
        String name
        if (isDeploy) name = names == ['deploy'] ? 'Deploy' : "Deploy: ${names.join(', ')}"
        else if (names.size() == 1) name = names[0]
        else name = names.join(', ').length() <= 48 ? "Level ${n}: ${names.join(', ')}" : "Level ${n} (${names.size()} steps)"
        stages << [name: name.toString(), steps: names, deploy: isDeploy]
    }
    if (cfg.approval && !stages.any { it.deploy }) {
        problems << "approval: no deploy step to wait before\n  hint: name them with deploy: ['<step>'] (steps: ${ids.join(', ')})".toString()
    }
    Map needs = [:]
    for (String id in ids) needs[id] = (steps[id]?.needs ?: []).collect { it.toString() }
    return [stages: stages, problems: problems, needs: needs]
}

/** `<option>: "x" is not a step of <pipeline> — did you mean "y"?` and the steps; null when it is one. */
@NonCPS
String unknownStep(Map plan, String option, String id) {
    List ids = plan.levels.flatten().collect { it.toString() }
    if (id in ids) return null
    return "${option}: \"${id}\" is not a step of ${plan.pipeline}${didYouMean(id, ids)}\n  steps: ${ids.join(', ')}".toString()
}

/** The first of `needs` that was skipped in this build (by its `if:`, or for its own needs), else null. */
@NonCPS
String skippedNeed(List needs, Map results) {
    return needs.find { results[it.toString()] == 'skipped' }?.toString()
}

/** `skipped` when a step's run report shows every invocation skipped (its `if:` was false), else `success`. */
@NonCPS
String stepOutcome(Map report) {
    List invocations = report.invocations ?: []
    return invocations && invocations.every { it.outcome == 'skipped' } ? 'skipped' : 'success'
}

@NonCPS
boolean anySucceeded(List ids, Map results) {
    return ids.any { results[it] == 'success' }
}

@NonCPS
List failedSteps(List ids, Map results) {
    List failed = ids.findAll { results[it] == 'failure' }
    return failed ?: ids
}

@NonCPS
String reportDirOf(Map cfg, String id) {
    return "${reportsDirOf(cfg)}/${id}".toString()
}

/** Where every step's report directory is, and the build's merged report.html. */
@NonCPS
String reportsDirOf(Map cfg) {
    return "${cfg.stateRoot}/.shipgate/jenkins".toString()
}

/** archiveArtifacts patterns: the merged page, each step's own page, and the logs the pages link to. */
@NonCPS
String reportArtifacts(String dir) {
    return ["${dir}/report.html", "${dir}/*/report.html", "${dir}/*/logs/*.log"].join(',')
}

/** POST /api/approvals body: the Slack app answers the `input` at `${buildUrl}input/${inputId}/`. */
@NonCPS
Map approvalRequest(Map cfg, String version, Map environment) {
    Map body = [service: cfg.service, environment: cfg.environment, version: version]
    if (cfg.approval.summary) body.summary = cfg.approval.summary
    String requester = cfg.approval.requester ?: environment.BUILD_USER_ID ?: environment.CHANGE_AUTHOR
    if (requester) body.requester = requester
    body.expiresInSeconds = cfg.approval.timeoutSeconds
    // a retried request (curl --retry) gets the same approval back, not a second message. BUILD_TAG
    // alone repeats when a job is deleted and made again (its numbers restart): the build's start
    // time makes the key this build's own
    body.idempotencyKey = "${environment.BUILD_TAG ?: environment.BUILD_URL}:${environment.BUILD_START ?: 'unknown-start'}:approval"
    body.backend = [kind: 'jenkins', buildUrl: environment.BUILD_URL, inputId: INPUT_ID]
    return stringify(body)
}

/** POST /api/deployments body. */
@NonCPS
Map deploymentRecord(Map cfg, String version, String outcome, Map environment) {
    Map body = [service: cfg.service, environment: cfg.environment, version: version, outcome: outcome]
    String deployer = environment.BUILD_USER_ID ?: environment.CHANGE_AUTHOR
    if (deployer) body.deployer = deployer
    if (environment.BUILD_URL) body.url = environment.BUILD_URL
    // the build's report page (e.g. "${BUILD_URL}shipgate/" with the HTML Publisher plugin); the app takes http(s) only
    if (environment.SHIPGATE_REPORT_URL ==~ /https?:\/\/\S+/) body.reportUrl = environment.SHIPGATE_REPORT_URL
    if (cfg.rollbackJobUrl) body.rollback = [kind: 'jenkins', jobUrl: cfg.rollbackJobUrl]
    return stringify(body)
}

/** GStrings → Strings, so the JSON is plain. */
@NonCPS
def stringify(value) {
    if (value instanceof Map) return value.collectEntries { k, v -> [(k.toString()): stringify(v)] }
    if (value instanceof List) return value.collect { stringify(it) }
    if (value instanceof CharSequence) return value.toString()
    return value
}

/** Why an approval ended without a go: timed out, or rejected (and by whom). */
@NonCPS
String describeInterruption(FlowInterruptedException e, String timeout) {
    for (cause in e.causes) {
        String kind = cause.getClass().simpleName
        if (kind == 'ExceededTimeout') return "the approval timed out after ${timeout}".toString()
        if (kind == 'Rejection') return "the approval was rejected (${cause.shortDescription})".toString()
    }
    return 'the approval was aborted'
}
