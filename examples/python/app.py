"""The Python examples, by the names the engine registers them under (machines/worker.ts)."""

from data_pipeline import DataPipeline
from grocery_agent import GroceryAgent
from training_loop import TrainingLoop

workflows = {
    "python-training-loop": TrainingLoop,
    "python-data-pipeline": DataPipeline,
    "python-grocery-agent": GroceryAgent,
}
