// Runs scenarios against the shared library in one JVM (Groovy start-up is the slow part):
//   groovy -cp <standin>/classes:<standin> <standin>/run.groovy scenarios.json results.json
// scenarios.json: { library: <dir holding vars/>, parallel?: <builds at once, default 1>,
//   scenarios: [{ name, workspace, jenkinsfile, env?, params?, credentials? }] }. Each scenario's Jenkinsfile runs with the library's global
// variables bound, as `@Library('shipgate') _` binds them in Jenkins; results.json gets, per
// scenario, the build result, the call tree, the console and the HTTP requests Jenkins received.
// The port of the Jenkins HTTP stand-in is printed first (`jenkins-http <url>`).
import groovy.json.JsonOutput
import groovy.json.JsonSlurperClassic
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.customizers.ImportCustomizer

Map input = new JsonSlurperClassic().parse(new File(args[0])) as Map
File library = new File(input.library as String)

CompilerConfiguration config = new CompilerConfiguration()
config.scriptBaseClass = 'PipelineScript'
config.addCompilationCustomizers(new ImportCustomizer().addImports('com.cloudbees.groovy.cps.NonCPS', 'org.jenkinsci.plugins.workflow.libs.Library'))
GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader, config)

// compile the library once; every scenario gets fresh instances (its @Field values start anew)
Map<String, Class> vars = [:]
new File(library, 'vars').listFiles().findAll { it.name.endsWith('.groovy') }.sort { it.name }.each { f ->
    vars[f.name - '.groovy'] = loader.parseClass(new GroovyCodeSource(f))
}

JenkinsHttp http = new JenkinsHttp()
println "jenkins-http ${http.url('/')}"
System.out.flush()

// Jenkinsfiles compiled up front (one class loader, one thread); builds then run `parallel` at a
// time — each has its own stand-in, binding and library instances, as separate Jenkins builds do.
List<Class> jenkinsfiles = []
input.scenarios.eachWithIndex { Map scenario, int index ->
    jenkinsfiles << loader.parseClass(new GroovyCodeSource(scenario.jenkinsfile as String, "Jenkinsfile${index}", '/groovy/script'))
}

Closure runScenario = { Map scenario, Class jenkinsfile ->
    JenkinsStandin standin = new JenkinsStandin(scenario, http)
    Binding binding = new Binding()
    binding.setVariable('__standin', standin)
    binding.setVariable('env', standin.env)
    binding.setVariable('currentBuild', standin.currentBuild)
    binding.setVariable('params', Collections.unmodifiableMap(scenario.params ?: [:]))
    binding.setVariable('scm', 'scm')
    vars.each { name, cls ->
        Script s = (Script) cls.newInstance()
        s.binding = binding
        binding.setVariable(name, s)
    }
    Script script = (Script) jenkinsfile.newInstance()
    script.binding = binding
    Map result = standin.run { script.run() }
    synchronized (System.out) {
        println "scenario ${scenario.name}: ${result.result} in ${result.durationMs} ms"
        System.out.flush()
    }
    return result
}

int parallel = Math.max(1, (input.parallel ?: 1) as int)
java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(parallel)
List results
try {
    List futures = []
    input.scenarios.eachWithIndex { Map scenario, int index ->
        futures << pool.submit({ runScenario(scenario, jenkinsfiles[index]) } as java.util.concurrent.Callable)
    }
    results = futures.collect { it.get() }
} finally {
    pool.shutdownNow()
    http.stop()
}
new File(args[1]).setText(JsonOutput.toJson(results), 'UTF-8')
