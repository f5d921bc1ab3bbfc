// The base class of every script the stand-in runs (a Jenkinsfile, each vars/*.groovy): a call
// that is no method of the script goes to a global variable (another var's `call`) or to a
// pipeline step of the stand-in, as in Jenkins.
abstract class PipelineScript extends Script {
    def methodMissing(String name, args) {
        Object[] list = args as Object[]
        if (binding.hasVariable(name)) {
            def target = binding.getVariable(name)
            if (target instanceof Script) return target.invokeMethod('call', list)
            if (target instanceof Closure) return target.call(list)
        }
        return ((JenkinsStandin) binding.getVariable('__standin')).step(name, list)
    }
}
