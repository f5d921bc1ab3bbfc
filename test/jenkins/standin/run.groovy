// Runs scenarios against the shared library in one JVM (Groovy start-up is the slow part):
//   groovy -cp <standin>/classes:<standin> <standin>/run.groovy scenarios.json results.json
// scenarios.json: { library: <dir holding vars/>, scenarios: [{ name, workspace, jenkinsfile,
//   env?, params?, credentials? }] }. Each scenario's Jenkinsfile runs with the library's global
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
List results = []
try {
    input.scenarios.eachWithIndex { Map scenario, int index ->
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
        Class jenkinsfile = loader.parseClass(new GroovyCodeSource(scenario.jenkinsfile as String, "Jenkinsfile${index}", '/groovy/script'))
        Script script = (Script) jenkinsfile.newInstance()
        script.binding = binding
        Map result = standin.run { script.run() }
        results << result
        println "scenario ${scenario.name}: ${result.result} in ${result.durationMs} ms"
        System.out.flush()
    }
} finally {
    http.stop()
}
new File(args[1]).setText(JsonOutput.toJson(results), 'UTF-8')
