// A small stand-in for the Jenkins pipeline DSL, for testing the shared library without Jenkins
// (which is not packaged here). Like JenkinsPipelineUnit it records every step call as a tree
// (stage → parallel → branch → sh …) with its arguments; unlike a mock, the steps really act:
//   * `sh` runs the script with `sh -xe` (as Jenkins does) in the build's workspace, with the
//     environment of the enclosing withEnv / withCredentials, and streams its output to the console;
//   * `parallel` runs branches on real threads, and failFast stops the others (their processes get
//     SIGTERM, as Jenkins sends);
//   * `timeout` interrupts its body when the time is up; `input` waits until someone POSTs
//     `.../input/<id>/proceedEmpty` or `/abort` to the build's URL (served by JenkinsHttp) with a
//     crumb, as the Slack app does against Jenkins;
//   * `withCredentials` binds values from the scenario's credential store, and — unlike Jenkins —
//     does NOT mask them in the console, so a test sees any leak the library would cause.
import groovy.json.JsonSlurper
import hudson.AbortException
import org.jenkinsci.plugins.workflow.steps.BranchStopped
import org.jenkinsci.plugins.workflow.steps.ExceededTimeout
import org.jenkinsci.plugins.workflow.steps.FlowInterruptedException
import org.jenkinsci.plugins.workflow.support.steps.input.Rejection

import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit

class Frame {
    Map node
    Map stage
    Map<String, String> env = [:]
    Map<String, String> shownEnv = [:]
    String cwd
    String path = ''

    Frame copy(Map changes = [:]) {
        Frame f = new Frame(node: node, stage: stage, env: new LinkedHashMap(env), shownEnv: new LinkedHashMap(shownEnv), cwd: cwd, path: path)
        changes.each { k, v -> f[k] = v }
        return f
    }
}

class CurrentBuild {
    static final List ORDER = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED']
    String result
    String description
    String displayName = '#1'
    int number = 1
    long startTimeInMillis = System.currentTimeMillis()
    String absoluteUrl
    /** Records what the script sets (`currentBuild.result = …`) in the call tree. */
    Closure onSet = { String property, value -> }

    String getCurrentResult() { result ?: 'SUCCESS' }

    /** `currentBuild.result = r` from a script: recorded, and (as in Jenkins) it can only get worse. */
    void setResult(String r) {
        onSet('result', r)
        worsen(r)
    }

    void setDescription(String d) {
        onSet('description', d)
        description = d
    }

    /** What steps and the end of the build do to the result. */
    synchronized void worsen(String r) {
        if (result == null || ORDER.indexOf(r) > ORDER.indexOf(result)) result = r
    }
}

class EnvStandin extends GroovyObjectSupport {
    JenkinsStandin standin

    Object getProperty(String name) {
        Frame f = standin.frame()
        return f.env.containsKey(name) ? f.env[name] : standin.globalEnv[name]
    }

    void setProperty(String name, Object value) {
        standin.record('env', [name: name, value: value?.toString()])
        standin.globalEnv[name] = value?.toString()
    }
}

class JenkinsStandin {
    final Map scenario
    final JenkinsHttp http
    final Map root = [step: 'build', children: Collections.synchronizedList([])]
    final List<String> console = Collections.synchronizedList([])
    final Map<String, String> globalEnv = new ConcurrentHashMap<>()
    final CurrentBuild currentBuild = new CurrentBuild()
    final EnvStandin env = new EnvStandin(standin: this)
    final Map<Thread, FlowInterruptedException> pendingInterrupts = new ConcurrentHashMap<>()
    final ThreadLocal<Frame> current = new ThreadLocal<>()
    final long t0 = System.currentTimeMillis()
    final File workspace
    final File tmp

    JenkinsStandin(Map scenario, JenkinsHttp http) {
        this.scenario = scenario
        this.http = http
        this.workspace = new File(scenario.workspace as String)
        this.tmp = File.createTempDir('standin-', '-tmp')
        String job = scenario.name
        String buildPath = "/job/${job}/1/"
        globalEnv.putAll([JOB_NAME: job, BUILD_NUMBER: '1', BUILD_TAG: "jenkins-${job}-1".toString(), BUILD_ID: '1',
                          JENKINS_URL: http.url('/'), BUILD_URL: http.url(buildPath), JOB_URL: http.url("/job/${job}/".toString())])
        (scenario.env ?: [:]).each { k, v -> if (v == null) globalEnv.remove(k) else globalEnv[k] = v.toString() }
        currentBuild.absoluteUrl = globalEnv.BUILD_URL
        currentBuild.onSet = { String property, value -> record("currentBuild.${property}".toString(), [value: value]) }
        current.set(new Frame(node: root, cwd: workspace.absolutePath))
    }

    Frame frame() { current.get() }

    long now() { System.currentTimeMillis() - t0 }

    Map record(String step, Map args = [:]) {
        Map node = [step: step, args: plain(args), at: now()]
        frame().node.children << node
        return node
    }

    def plain(value) {
        if (value instanceof Map) return value.collectEntries { k, v -> [(k.toString()): plain(v)] }
        if (value instanceof List || value instanceof Object[]) return value.collect { plain(it) }
        if (value instanceof Closure) return '<closure>'
        if (value instanceof CharSequence) return value.toString()
        return value
    }

    def within(Frame f, Closure body) {
        Frame saved = current.get()
        current.set(f)
        try {
            return body()
        } finally {
            current.set(saved)
        }
    }

    def nested(Map node, Closure body, Map changes = [:]) {
        node.children = Collections.synchronizedList([])
        return within(frame().copy([node: node] + changes), body)
    }

    void log(String line) {
        String prefix = frame().path ? "[${frame().path}] " : ''
        console << "${prefix}${line}".toString()
    }

    /** Throws the reason this thread was interrupted (timeout, failFast), if it was. */
    void checkInterrupt() {
        if (Thread.interrupted()) throw interruption()
    }

    FlowInterruptedException interruption() {
        FlowInterruptedException e = pendingInterrupts.remove(Thread.currentThread())
        return e ?: new FlowInterruptedException('ABORTED')
    }

    void interrupt(Thread thread, FlowInterruptedException why) {
        pendingInterrupts.putIfAbsent(thread, why)
        thread.interrupt()
    }

    // ------------------------------------------------------------------------------ the steps

    Object step(String name, Object[] args) {
        checkInterrupt()
        Map named = args.length > 0 && args[0] instanceof Map ? (Map) args[0] : [:]
        Closure body = args.length > 0 && args[-1] instanceof Closure ? (Closure) args[-1] : null
        switch (name) {
            case 'echo': return echo(args[0].toString())
            case 'error': return error(args[0].toString())
            case 'node': return node(args.length > 1 ? args[0]?.toString() : null, body)
            case 'stage': return stage(args[0].toString(), body)
            case 'parallel': return parallel(named)
            case 'sh': return sh(args[0] instanceof Map ? named : [script: args[0].toString()])
            case 'withEnv': return withEnv(args[0] as List, body)
            case 'withCredentials': return withCredentials(args[0] as List, body)
            case 'timeout': return timeout(named, body)
            case 'input': return input(named)
            case 'junit': return junit(args[0] instanceof Map ? named : [testResults: args[0].toString()])
            case 'readJSON': return readJSON(named)
            case 'writeFile': return writeFile(named)
            case 'readFile': return readFile(args[0] instanceof Map ? named.file.toString() : args[0].toString())
            case 'fileExists': return fileExists(args[0] instanceof Map ? named.file.toString() : args[0].toString())
            case 'catchError': return catchError(named, body)
            case 'checkout': record('checkout', [scm: args[0]?.toString()]); return null
            case 'dir': return dir(args[0].toString(), body)
            case 'properties': record('properties', [properties: args[0]]); return null
            case 'string':
            case 'file':
            case 'usernamePassword':
            case 'choice':
            case 'booleanParam':
                return [$symbol: name] + named
            case 'parameters': return [$symbol: 'parameters', parameters: args[0]]
            case 'archiveArtifacts': return archiveArtifacts(args[0] instanceof Map ? named : [artifacts: args[0].toString()])
            // a plugin's step exists only when the scenario installs the plugin, as in Jenkins
            case 'publishHTML':
                if ('htmlpublisher' in (scenario.plugins ?: [])) return publishHTML(named.target as Map)
                throw noSuchStep(name)
            default:
                throw noSuchStep(name)
        }
    }

    NoSuchMethodError noSuchStep(String name) {
        return new NoSuchMethodError("No such DSL method '${name}' found among steps (the stand-in has: echo, error, node, stage, parallel, sh, withEnv, withCredentials, timeout, input, junit, archiveArtifacts, readJSON, writeFile, readFile, fileExists, catchError, checkout, dir, properties, parameters; publishHTML with the htmlpublisher plugin)")
    }

    /** Records the files the comma-separated Ant-style patterns match under the workspace (`*` within a folder, `**` across). */
    Object archiveArtifacts(Map args) {
        Map n = record('archiveArtifacts', [artifacts: args.artifacts.toString(), allowEmptyArchive: args.allowEmptyArchive ?: false])
        java.nio.file.Path base = new File(frame().cwd).toPath()
        // Jenkins resolves patterns against the workspace, so `./x` is `x`
        List matchers = args.artifacts.toString().split(',').collect { java.nio.file.FileSystems.default.getPathMatcher("glob:${it.trim().replaceFirst('^(\\./)+', '')}".toString()) }
        List files = []
        def stream = java.nio.file.Files.walk(base)
        try {
            for (java.nio.file.Path f in stream.iterator()) {
                java.nio.file.Path rel = base.relativize(f)
                if (java.nio.file.Files.isRegularFile(f) && !rel.toString().contains('node_modules') && matchers.any { it.matches(rel) }) files << rel.toString()
            }
        } finally {
            stream.close()
        }
        n.files = files.sort()
        if (!files && !args.allowEmptyArchive) throw new AbortException("No artifacts found that match the file pattern \"${args.artifacts}\". Configuration error?")
        log("Archiving artifacts")
        return null
    }

    /** The HTML Publisher plugin's step: checks the report is there and records what would be published. */
    Object publishHTML(Map target) {
        File dir = new File(frame().cwd, target.reportDir.toString())
        List files = target.reportFiles.toString().split(',').collect { it.trim() }
        Map n = record('publishHTML', target)
        n.found = files.every { new File(dir, it).isFile() }
        if (!n.found && !target.allowMissing) throw new AbortException("Specified HTML directory '${dir}' does not exist or has no ${files}")
        if (n.found) n.html = new File(dir, files[0]).getText('UTF-8')
        log("[htmlpublisher] Archiving HTML reports...")
        return null
    }

    Object echo(String message) {
        record('echo', [message: message])
        log(message)
        return null
    }

    Object error(String message) {
        record('error', [message: message])
        log("ERROR: ${message}")
        throw new AbortException(message)
    }

    Object node(String label, Closure body) {
        Map n = record('node', [label: label])
        globalEnv.WORKSPACE = workspace.absolutePath
        return nested(n, body, [cwd: workspace.absolutePath])
    }

    Object stage(String name, Closure body) {
        Map n = record('stage', [name: name])
        n.status = 'SUCCESS'
        try {
            return nested(n, body, [stage: n, path: frame().path ? "${frame().path}/${name}".toString() : name])
        } catch (FlowInterruptedException e) {
            n.status = 'ABORTED'
            throw e
        } catch (Throwable e) {
            n.status = 'FAILURE'
            throw e
        } finally {
            n.durationMs = now() - n.at
        }
    }

    Object dir(String path, Closure body) {
        Map n = record('dir', [path: path])
        return nested(n, body, [cwd: new File(frame().cwd, path).absolutePath])
    }

    Object parallel(Map branchesIn) {
        Map branches = new LinkedHashMap(branchesIn)
        boolean failFast = branches.remove('failFast') as boolean
        Map n = record('parallel', [branches: branches.keySet().collect { it.toString() }, failFast: failFast])
        n.children = Collections.synchronizedList([])
        Frame parent = frame()
        Map<String, Thread> threads = [:]
        Map<String, Throwable> errors = new ConcurrentHashMap<>()
        List<String> failureOrder = Collections.synchronizedList([])
        branches.each { k, closure ->
            String name = k.toString()
            Map b = [step: 'branch', args: [name: name], at: now(), status: 'SUCCESS', children: Collections.synchronizedList([])]
            n.children << b
            threads[name] = new Thread({
                current.set(parent.copy(node: b, stage: b, path: parent.path ? "${parent.path}/${name}".toString() : name))
                try {
                    ((Closure) closure).call()
                } catch (Throwable e) {
                    b.status = e instanceof FlowInterruptedException ? 'ABORTED' : 'FAILURE'
                    b.error = e.message
                    errors[name] = e
                    failureOrder << name
                    if (failFast && !(e instanceof FlowInterruptedException)) {
                        threads.each { other, t -> if (other != name) interrupt(t, new FlowInterruptedException('ABORTED', new BranchStopped(name))) }
                    }
                } finally {
                    b.durationMs = now() - b.at
                    pendingInterrupts.remove(Thread.currentThread())
                }
            } as Runnable, "branch-${name}")
        }
        threads.values()*.start()
        try {
            threads.values()*.join()
        } catch (InterruptedException e) {
            // this thread (a branch of an outer parallel, or a timeout) was stopped: stop the branches too
            FlowInterruptedException why = interruption()
            threads.values().each { interrupt(it, why) }
            threads.values()*.join()
            throw why
        }
        if (!errors.isEmpty()) {
            // the first real failure wins over the aborts it caused
            String first = failureOrder.find { !(errors[it] instanceof FlowInterruptedException) } ?: failureOrder[0]
            throw errors[first]
        }
        return null
    }

    Object withEnv(List vars, Closure body) {
        Map<String, String> overlay = [:]
        for (v in vars) {
            String s = v.toString()
            int eq = s.indexOf('=')
            overlay[s.substring(0, eq)] = s.substring(eq + 1)
        }
        Map n = record('withEnv', [env: overlay])
        Frame f = frame().copy()
        f.env.putAll(overlay)
        f.shownEnv.putAll(overlay)
        return nested(n, body, [env: f.env, shownEnv: f.shownEnv])
    }

    Object withCredentials(List bindings, Closure body) {
        Map<String, String> bound = [:]
        List described = []
        List<File> files = []
        Map store = scenario.credentials ?: [:]
        for (b in bindings) {
            Map binding = b as Map
            String kind = binding.$symbol ?: (binding.$class == 'AmazonWebServicesCredentialsBinding' ? 'aws' : binding.$class)
            String id = binding.credentialsId
            Map cred = store[id] as Map
            described << [type: kind, credentialsId: id] + binding.findAll { k, v -> k.toString().endsWith('ariable') }
            if (cred == null || cred.type != kind) {
                record('withCredentials', [bindings: described])
                throw new AbortException("Could not find credentials entry with ID '${id}'${cred ? " of type ${kind} (it is ${cred.type})" : ''}")
            }
            switch (kind) {
                case 'string': bound[binding.variable] = cred.secret; break
                case 'file':
                    File f = new File(tmp, "secret-${id}")
                    f.text = cred.content
                    files << f
                    bound[binding.variable] = f.absolutePath
                    break
                case 'usernamePassword': bound[binding.usernameVariable] = cred.username; bound[binding.passwordVariable] = cred.password; break
                case 'aws': bound[binding.accessKeyVariable] = cred.accessKey; bound[binding.secretKeyVariable] = cred.secretKey; break
                default: throw new AbortException("unknown binding ${kind}")
            }
        }
        Map n = record('withCredentials', [bindings: described])
        Frame f = frame().copy()
        f.env.putAll(bound)
        try {
            return nested(n, body, [env: f.env])
        } finally {
            files*.delete()
        }
    }

    Object sh(Map args) {
        String script = args.script.toString()
        Map n = record('sh', [script: script, label: args.label?.toString(), returnStdout: args.returnStdout ?: false, returnStatus: args.returnStatus ?: false])
        n.env = new LinkedHashMap(frame().shownEnv)
        n.output = Collections.synchronizedList([])
        File file = File.createTempFile('script', '.sh', tmp)
        file.text = script
        ProcessBuilder pb = new ProcessBuilder('sh', '-xe', file.absolutePath).directory(new File(frame().cwd))
        Map<String, String> environment = pb.environment()
        environment.putAll(globalEnv)
        environment.putAll(frame().env)
        Process p = pb.start()
        StringBuilder stdout = new StringBuilder()
        boolean capture = args.returnStdout as boolean
        Frame f = frame()
        Thread out = Thread.start {
            within(f) {
                p.inputStream.eachLine('UTF-8') { line ->
                    if (capture) stdout.append(line).append('\n') else { n.output << line; log(line) }
                }
            }
        }
        Thread err = Thread.start {
            within(f) { p.errorStream.eachLine('UTF-8') { line -> n.output << line; log(line) } }
        }
        int code
        try {
            code = p.waitFor()
        } catch (InterruptedException e) {
            // as Jenkins does when a step is stopped: SIGTERM to the process tree, then wait for it
            p.toHandle().descendants().each { it.destroy() }
            p.destroy()
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.toHandle().descendants().each { it.destroyForcibly() }
                p.destroyForcibly()
            }
            out.join(5000)
            err.join(5000)
            n.exitCode = p.exitValue()
            n.interrupted = true
            n.endedAt = now()
            throw interruption()
        }
        out.join()
        err.join()
        n.exitCode = code
        n.endedAt = now()
        file.delete()
        if (args.returnStatus) return code
        if (code != 0) throw new AbortException("script returned exit code ${code}")
        return capture ? stdout.toString() : null
    }

    Object timeout(Map args, Closure body) {
        long amount = args.time as long
        TimeUnit unit = TimeUnit.valueOf((args.unit ?: 'MINUTES').toString())
        Map n = record('timeout', [time: amount, unit: unit.name()])
        Thread me = Thread.currentThread()
        Object lock = new Object()
        boolean done = false
        boolean fired = false
        Thread watchdog = Thread.start {
            try {
                Thread.sleep(unit.toMillis(amount))
                synchronized (lock) {
                    if (!done) {
                        fired = true
                        interrupt(me, new FlowInterruptedException('ABORTED', new ExceededTimeout()))
                    }
                }
            } catch (InterruptedException ignored) {
                // the body finished first
            }
        }
        try {
            return nested(n, body)
        } finally {
            synchronized (lock) { done = true }
            watchdog.interrupt()
            if (fired) {
                n.expired = true
                Thread.interrupted()
                pendingInterrupts.remove(me)
            }
        }
    }

    Object input(Map args) {
        String id = args.id?.toString() ?: 'Input'
        Map n = record('input', [id: id, message: args.message?.toString(), ok: args.ok?.toString(), submitter: args.submitter?.toString()])
        log("${args.message}\nProceed or Abort")
        String key = "${globalEnv.BUILD_URL.substring(http.url('').length())}input/${id}/".toString()
        def answer
        try {
            answer = http.waitForInput(key)
        } catch (InterruptedException e) {
            n.answer = 'interrupted'
            throw interruption()
        }
        n.answer = answer.decision
        n.answeredBy = answer.user
        if (answer.decision == 'abort') {
            log("Rejected by ${answer.user}")
            throw new FlowInterruptedException('ABORTED', new Rejection(answer.user as String))
        }
        log("Approved by ${answer.user}")
        return null
    }

    Object junit(Map args) {
        String pattern = args.testResults.toString()
        Map n = record('junit', [testResults: pattern, allowEmptyResults: args.allowEmptyResults ?: false])
        File file = new File(frame().cwd, pattern)
        if (!file.isFile()) {
            n.found = false
            if (args.allowEmptyResults) {
                log("None of the test reports contained any result (${pattern})")
                return null
            }
            throw new AbortException("No test report files were found. Configuration error? (${pattern})")
        }
        def xml = new XmlSlurper().parse(file)
        def cases = xml.'**'.findAll { it.name() == 'testcase' }
        n.found = true
        n.tests = cases.size()
        n.failures = cases.count { c -> c.children().any { it.name() == 'failure' || it.name() == 'error' } }
        n.skipped = cases.count { c -> c.children().any { it.name() == 'skipped' } }
        n.cases = cases.collect { it.@name.toString() }
        if (n.failures > 0) currentBuild.worsen('UNSTABLE')
        return null
    }

    Object readJSON(Map args) {
        String text
        if (args.containsKey('file')) {
            record('readJSON', [file: args.file.toString()])
            text = new File(frame().cwd, args.file.toString()).getText('UTF-8')
        } else {
            text = args.text.toString()
            record('readJSON', [text: "<${text.length()} characters>".toString()])
        }
        // ordered maps, as Jenkins' readJSON (net.sf.json) keeps keys in document order
        return ordered(new JsonSlurper().parseText(text))
    }

    def ordered(value) {
        if (value instanceof Map) {
            Map copy = new LinkedHashMap()
            value.each { k, v -> copy[k] = ordered(v) }
            return copy
        }
        if (value instanceof List) return value.collect { ordered(it) }
        return value
    }

    Object writeFile(Map args) {
        record('writeFile', [file: args.file.toString()])
        File f = new File(frame().cwd, args.file.toString())
        f.parentFile.mkdirs()
        f.setText(args.text.toString(), 'UTF-8')
        return null
    }

    Object readFile(String path) {
        record('readFile', [file: path])
        return new File(frame().cwd, path).getText('UTF-8')
    }

    Object fileExists(String path) {
        Map n = record('fileExists', [file: path])
        n.exists = new File(frame().cwd, path).exists()
        return n.exists
    }

    Object catchError(Map args, Closure body) {
        Map n = record('catchError', [buildResult: args.buildResult, stageResult: args.stageResult])
        try {
            return nested(n, body)
        } catch (Throwable e) {
            n.caught = e.message
            currentBuild.worsen((args.buildResult ?: 'FAILURE').toString())
            if (frame().stage) frame().stage.status = (args.stageResult ?: 'FAILURE').toString()
            log("ERROR: ${e.message}")
            return null
        }
    }

    // ------------------------------------------------------------------------------ the build

    /** Runs the build's body; returns what the test reads: result, call tree, console. */
    Map run(Closure body) {
        String failure = null
        try {
            body()
        } catch (FlowInterruptedException e) {
            currentBuild.worsen(e.result)
            failure = e.message
        } catch (Throwable e) {
            currentBuild.worsen('FAILURE')
            failure = e instanceof AbortException ? e.message : e.toString()
            if (!(e instanceof AbortException)) {
                StringWriter trace = new StringWriter()
                e.printStackTrace(new PrintWriter(trace))
                console << trace.toString()
            }
        } finally {
            tmp.deleteDir()
        }
        return [name: scenario.name, result: currentBuild.currentResult, error: failure, description: currentBuild.description,
                calls: root.children, console: new ArrayList(console), http: http.requestsFor("/job/${scenario.name}/".toString()), durationMs: now()]
    }
}
