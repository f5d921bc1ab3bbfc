// Stand-in for jenkins.model.CauseOfInterruption: why a step was interrupted.
package jenkins.model

abstract class CauseOfInterruption implements Serializable {
    abstract String getShortDescription()
}
