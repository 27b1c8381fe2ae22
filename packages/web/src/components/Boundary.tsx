// Catches a view that throws while rendering, so a failure shows as a message (with a way back)
// instead of a blank page.
import { Component, type ReactNode } from 'react';

export class Boundary extends Component<{ children: ReactNode; what: string; testId?: string }, { error: Error | undefined }> {
  state = { error: undefined as Error | undefined };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="alert alert-error" role="alert" data-testid={this.props.testId ?? 'view-error'}>
        {this.props.what} failed: {this.state.error.message}{' '}
        <button type="button" className="btn btn-small" onClick={() => this.setState({ error: undefined })}>
          Try again
        </button>
      </div>
    );
  }
}
