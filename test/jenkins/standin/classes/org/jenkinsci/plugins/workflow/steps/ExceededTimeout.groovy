// Stand-in for TimeoutStepExecution.ExceededTimeout (same simple name, which is what the library reads).
package org.jenkinsci.plugins.workflow.steps

import jenkins.model.CauseOfInterruption

class ExceededTimeout extends CauseOfInterruption {
    String getShortDescription() { 'Timeout has been exceeded' }
}
