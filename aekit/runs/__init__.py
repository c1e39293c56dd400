"""What a CLI command does beyond its estimator: run directories, reports and streamed outputs. Python users
call these to get the same files as the command line."""

from .cluster import fit_cluster_run, report_path_for
from .codec import fit_codec_run
from .denoise import fit_denoise_run
from .detect import fit_detection_run, label_auroc, score_to_file
from .impute import imputation_summary, save_imputation_run, write_filled
from .recommend import fit_recommender_run, write_recommendations
from .run_dir import remembered_label_column
from .text import fit_text_run
from .train import train_run, write_run_report

__all__ = ["fit_codec_run", "fit_denoise_run", "fit_cluster_run", "fit_detection_run", "imputation_summary", "label_auroc", "remembered_label_column", "report_path_for",
           "save_imputation_run", "score_to_file", "train_run", "write_filled", "write_recommendations",
           "write_run_report", "fit_recommender_run", "fit_text_run"]
